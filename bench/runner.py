"""Starting the children one after another and keeping what they report."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.child import MODELS, RESULT_PREFIX
from bench.cipher import environment_with_key
from bench.cold_start import READY_PREFIX
from bench.data import BenchDatabase
from bench.report import percentile

ROOT = Path(__file__).resolve().parent.parent
#: A child that has not answered by then is stopped and its measurement counted as failed.
CHILD_TIMEOUT_S = 3600


@dataclass(frozen=True)
class Side:
    """A table the children measure: theirs (the child's model), on which files, opened
    with which key (None: plain SQLite)."""

    model: str
    database: Path
    cold_start: Path
    key: bytes | None = None


class Bench:
    """One benchmark run: the children it started and what they reported."""

    def __init__(
        self, arguments: argparse.Namespace, database: BenchDatabase, cold: BenchDatabase
    ) -> None:
        self.arguments = arguments
        self.database = database
        #: Each table measured, by the name its results are kept under; ``--encrypted`` adds
        #: ours on the encrypted copies as "encrypted".
        self.sides = {model: Side(model, database.path, cold.path) for model in MODELS}
        self.results: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.env = os.environ | {"QT_QPA_PLATFORM": "offscreen"}
        #: How busy other work kept the CPUs when the measuring began (it skews figures).
        self.busy_at_start: float | None = None

    def child(self, run: int, scenario: str, model: str, *extra: str) -> None:
        """Run one scenario for one table (a name of ``sides``) in a new process and keep
        its result."""
        side = self.sides[model]
        command = [
            sys.executable,
            "-m",
            "bench.child",
            scenario,
            side.model,
            "--db",
            str(side.database),
            "--rows",
            str(self.database.accounts),
            *extra,
        ]
        started = time.perf_counter()
        label = f"[run {run}] {scenario:<8} {model:<9}"
        try:
            finished = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=CHILD_TIMEOUT_S,
                env=environment_with_key(self.env, side.key),
                cwd=ROOT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            self._failed(run, scenario, model, f"no result within {CHILD_TIMEOUT_S} s")
            return
        lines = [line for line in finished.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
        if finished.returncode or not lines:
            tail = (finished.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
            self._failed(run, scenario, model, f"exit status {finished.returncode}: {tail}")
            return
        result = json.loads(lines[-1].removeprefix(RESULT_PREFIX)) | {"run": run, "model": model}
        result["wall_s"] = round(time.perf_counter() - started, 1)
        self.results.append(result)
        shown = ", ".join(f"{k} {v:,.0f}" for k, v in result["figures"].items())
        if "search_ms" in result:
            latencies = result["search_ms"]
            shown += f", search p50 {percentile(latencies, 50):,.0f} p95 "
            shown += f"{percentile(latencies, 95):,.0f}"
        print(f"{label} {shown}  ({result['wall_s']:.0f} s)", flush=True)

    def cold_start(self, run: int, model: str) -> None:
        """Time a child from its start to its first painted page."""
        side = self.sides[model]
        command = [sys.executable, "-m", "bench.cold_start", side.model, str(side.cold_start)]
        started = time.perf_counter()
        with subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment_with_key(self.env, side.key),
            cwd=ROOT,
        ) as process:
            assert process.stdout is not None
            stop = threading.Timer(CHILD_TIMEOUT_S, process.kill)  # a hung child ends the line
            stop.start()
            try:
                ready = process.stdout.readline()
                elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
                _, stderr = process.communicate()
            finally:
                stop.cancel()
        if not ready.startswith(READY_PREFIX):
            tail = (stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
            self._failed(run, "cold", model, f"exit status {process.returncode}: {tail}")
            return
        phases = json.loads(ready.removeprefix(READY_PREFIX))
        self.results.append(
            {"run": run, "scenario": "cold", "model": model, "figures": {"cold_ms": elapsed_ms}}
            | {"info": phases}
        )
        print(f"[run {run}] cold     {model:<9} {elapsed_ms:,.0f} ms  {phases}", flush=True)

    def _failed(self, run: int, scenario: str, model: str, message: str) -> None:
        self.errors.append({"run": run, "scenario": scenario, "model": model, "error": message})
        print(f"[run {run}] {scenario:<8} {model:<9} FAILED: {message}", flush=True)

    def samples(self, figure: str, model: str) -> list[float]:
        """Every value of ``figure`` the children of ``model`` reported, in run order."""
        return [
            result["figures"][figure]
            for result in self.results
            if result["model"] == model and figure in result["figures"]
        ]

    def search_percentiles(self, model: str, percent: float) -> list[float]:
        """The ``percent``-th percentile of each run's 50 search latencies."""
        return [
            percentile(result["search_ms"], percent)
            for result in self.results
            if result["model"] == model and "search_ms" in result
        ]

    def data_samples(self, figure: str, model: str) -> list[float]:
        """For each value of ``figure``: the ms until the data it painted was in."""
        return [
            result["info"]["data_ms"][figure]
            for result in self.results
            if result["model"] == model and figure in result.get("info", {}).get("data_ms", {})
        ]

    def search_data_percentiles(self, model: str, percent: float) -> list[float]:
        """The ``percent``-th percentile of each run's ms until the searches' data was in."""
        return [
            percentile(result["info"]["search_data_ms"], percent)
            for result in self.results
            if result["model"] == model and "search_data_ms" in result.get("info", {})
        ]

    def info_samples(self, scenario: str, key: str, model: str) -> list[float]:
        """Every value of ``info[key]`` that ``scenario`` children of ``model`` reported."""
        return [
            result["info"][key]
            for result in self.results
            if result["model"] == model
            and result["scenario"] == scenario
            and key in result.get("info", {})
        ]

    def memory_samples(self, model: str) -> list[float]:
        """Peak memory of the children that visited the whole list."""
        return [
            result["figures"]["peak_rss_mb"]
            for result in self.results
            if result["model"] == model and result["scenario"] == "memory"
        ]


def run_all(bench: Bench, searches_file: Path) -> None:
    """Every scenario, run after run, each table in turn (so that whatever else the machine
    does falls on all)."""
    arguments = bench.arguments
    for run in range(1, arguments.runs + 1):
        for model in bench.sides:
            bench.cold_start(run, model)
        for scenario in ("open", "last", "clusters"):
            for model in bench.sides:
                bench.child(run, scenario, model)
        if run <= arguments.memory_runs:
            for model in bench.sides:
                bench.child(run, "memory", model, "--visit-steps", str(arguments.visit_steps))
        for model, side in bench.sides.items():
            baseline = side.model == "baseline"
            if run <= (arguments.baseline_search_runs if baseline else arguments.search_runs):
                bench.child(run, "search", model, "--searches", str(searches_file))
