"""One measurement in a fresh process: one scenario, one table, one result line.

    python -m bench.child SCENARIO MODEL --db PATH [--searches FILE] [--visit-steps N]

A fresh process per measurement keeps each table's peak memory its own and leaves no warm
SQLite page cache, thread pool or Python object behind for the next one. Ours opens an
encrypted database with the key in ``bench.cipher.KEY_VAR``. The result is printed
as one line, ``BENCH-RESULT {json}``, for ``python -m bench`` to collect.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Protocol

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench.cipher import key_from_environment
from bench.measure import current_rss_mb, peak_rss_mb

RESULT_PREFIX = "BENCH-RESULT "
SCENARIOS = ("open", "last", "memory", "search", "clusters")
MODELS = ("ours", "baseline")


class TableUnderTest(Protocol):
    """What ``OurConsole`` and ``QtSqlBaseline`` both offer; every step answers in ms."""

    #: Of the last step: ms until its own call returned or the model last changed the rows
    #: shown, whichever came later; the rest of the step is painting.
    data_ms: float

    def open(self) -> float: ...
    def row_count(self) -> int: ...
    def jump_to(self, row: int | None) -> float: ...
    def show_row_at_top(self, row: int) -> float: ...
    def sort_by_name(self, descending: bool) -> float: ...
    def show_shared_only(self, on: bool) -> float: ...
    def type_last_key(self, text: str) -> float: ...
    def shown_rows(self) -> int: ...
    def wait_idle(self) -> None: ...
    def close(self) -> None: ...


def _table(model: str, path: Path) -> TableUnderTest:
    if model == "ours":
        from bench.data import sqlite_url
        from bench.ours import OurConsole

        return OurConsole(sqlite_url(path), key_from_environment())
    from bench.baseline import QtSqlBaseline

    return QtSqlBaseline(path)


class Steps:
    """The figures of one child, and for each the part spent until the data was in."""

    def __init__(self, table: TableUnderTest) -> None:
        self.table = table
        self.figures: dict[str, float] = {}
        self.data_ms: dict[str, float] = {}

    def take(self, name: str, value: float) -> None:
        """Keep ``value`` as figure ``name``; ``wait_idle`` before the next step."""
        self.figures[name] = value
        self.data_ms[name] = self.table.data_ms
        self.table.wait_idle()

    def result(self) -> dict[str, Any]:
        return {"figures": self.figures, "info": {"data_ms": self.data_ms}}


def run_open(table: TableUnderTest, total_rows: int) -> dict[str, Any]:
    """First paint, a jump to the middle, re-sorting by name, the shared-only page."""
    steps = Steps(table)
    steps.take("first_paint_ms", table.open())
    steps.take("jump_middle_ms", table.jump_to(total_rows // 2))
    steps.take("sort_desc_ms", table.sort_by_name(descending=True))
    steps.take("sort_asc_ms", table.sort_by_name(descending=False))
    steps.take("shared_page_ms", table.show_shared_only(on=True))
    return steps.result()


def run_last(table: TableUnderTest) -> dict[str, Any]:
    """First paint, then a jump to the last row once the list is counted."""
    steps = Steps(table)
    steps.take("first_paint_ms", table.open())
    steps.take("jump_last_ms", table.jump_to(None))
    return steps.result()


def run_memory(table: TableUnderTest, visit_steps: int) -> dict[str, Any]:
    """First paint, a jump to the last row, then the whole list visited from the top to the
    bottom in ``visit_steps`` even jumps; the peak memory at the end."""
    result = run_last(table)
    rss_open = current_rss_mb()
    rows = table.row_count()
    started = time.perf_counter()
    steps = [
        table.show_row_at_top(min(rows - 1, step * rows // visit_steps))
        for step in range(visit_steps + 1)
    ]
    visit_s = time.perf_counter() - started
    table.wait_idle()
    result["figures"]["peak_rss_mb"] = peak_rss_mb()
    result["info"] |= {
        "rows": rows,
        "rss_after_jump_to_last_mb": rss_open,
        "rss_after_visit_mb": current_rss_mb(),
        "visit_steps": visit_steps,
        "visit_s": round(visit_s, 2),
        "visit_step_ms_median": sorted(steps)[len(steps) // 2],
        "visit_step_ms_max": max(steps),
    }
    return result


def run_search(table: TableUnderTest, searches: list[dict[str, str]]) -> dict[str, Any]:
    """First paint, then each search's last keystroke to its painted results."""
    steps = Steps(table)
    steps.take("first_paint_ms", table.open())
    latencies, data_ms, shown = [], [], []
    for search in searches:
        latencies.append(table.type_last_key(search["text"]))
        data_ms.append(table.data_ms)
        table.wait_idle()
        shown.append(table.shown_rows())
    result = steps.result() | {"search_ms": latencies}
    result["info"] |= {"search_data_ms": data_ms, "rows_shown": shown}
    return result


def run_clusters(model: str, path: Path) -> dict[str, Any]:
    """Listing every shared-e-mail cluster (no window)."""
    if model == "ours":
        from bench.data import sqlite_url
        from bench.ours import time_clusters

        elapsed, clusters = time_clusters(sqlite_url(path), key_from_environment())
        return {"figures": {"clusters_ms": elapsed}, "info": {"clusters": clusters}}
    from bench import baseline

    elapsed, clusters = baseline.time_clusters(path)
    scratch_ms, scratch_clusters = baseline.time_clusters(path, baseline.CLUSTERS_FROM_SCRATCH_SQL)
    info = {
        "clusters": clusters,
        "from_scratch_ms": scratch_ms,
        "from_scratch_clusters": scratch_clusters,
        "qt_sqlite_version": baseline.sqlite_version(path),
    }
    return {"figures": {"clusters_ms": elapsed}, "info": info}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("model", choices=MODELS)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=0, help="accounts in the list")
    parser.add_argument("--searches", type=Path)
    parser.add_argument("--visit-steps", type=int, default=100)
    arguments = parser.parse_args(argv)
    if not arguments.db.is_file():
        parser.error(f"there is no database at {arguments.db}")
    if arguments.scenario == "clusters":
        result = run_clusters(arguments.model, arguments.db)
    else:
        table = _table(arguments.model, arguments.db)
        try:
            if arguments.scenario == "open":
                result = run_open(table, arguments.rows)
            elif arguments.scenario == "last":
                result = run_last(table)
            elif arguments.scenario == "memory":
                result = run_memory(table, arguments.visit_steps)
            else:
                searches = json.loads(arguments.searches.read_text())
                result = run_search(table, searches)
        finally:
            table.close()
    result.update(scenario=arguments.scenario, model=arguments.model)
    result.setdefault("figures", {}).setdefault("peak_rss_mb", peak_rss_mb())
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
