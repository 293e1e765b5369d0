"""The GUI-stall probe's instruments (``python -m bench.gui_stall``): a 5 ms timer on the GUI
thread whose longest gap is a step's stall, a sampler of every thread's Python stack while a
tick is late, the garbage collections seen meanwhile, the steps' driver, and the report.
"""

from __future__ import annotations

import gc
import heapq
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QElapsedTimer,
    QEventLoop,
    QMessageLogContext,
    QObject,
    Qt,
    QTimer,
    QtMsgType,
)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

LIMIT_MS = 100.0  # the bound on a GUI-thread stall
TICK_MS = 5  # the probe's interval
TYPING_S = 0.12  # pause between two keystrokes: a quick typist
SETTLE_S = 0.25  # idle time kept at the end of each step, to catch late answers
TIMEOUT_S = 90.0


# --- the probe --------------------------------------------------------------------------------


class StallProbe(QObject):
    """A 5 ms timer on the GUI thread; the largest gap between its ticks is the stall."""

    def __init__(self) -> None:
        super().__init__()
        self.last_tick = time.perf_counter()
        self.max_gap = 0.0
        self.measuring = False
        #: Garbage collections of 5 ms or more during the step: (thread, generation, ms).
        #: A collection holds the GIL, so no Python runs on the GUI thread meanwhile.
        self.collections: list[tuple[str, int, float]] = []
        self._gc_started = 0.0
        gc.callbacks.append(self._collected)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.tick)
        self._timer.start()

    def tick(self) -> None:
        now = time.perf_counter()
        self.max_gap = max(self.max_gap, now - self.last_tick)
        self.last_tick = now

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        took = (time.perf_counter() - self._gc_started) * 1000
        if self.measuring and took >= 5:
            thread = threading.current_thread()
            name = "GUI thread" if thread is threading.main_thread() else "a worker thread"
            self.collections.append((name, info["generation"], took))

    def begin(self) -> None:
        self.last_tick = time.perf_counter()
        self.max_gap = 0.0
        self.collections = []
        self.measuring = True

    def end(self) -> float:
        """The step's stall in ms (the gap beyond the timer's own interval)."""
        self.tick()
        self.measuring = False
        return max(0.0, self.max_gap * 1000 - TICK_MS)


class StackSampler(threading.Thread):
    """While a probe tick is over ``late_s`` late, samples every thread's Python stack (a
    poor man's py-spy): the GUI thread's shows what blocks it, the workers' what competes
    with it for the GIL. Each sample is weighted by the time since the previous one."""

    def __init__(self, probe: StallProbe, late_s: float = 0.03, period_s: float = 0.002) -> None:
        super().__init__(name="stall-sampler", daemon=True)
        self._probe = probe
        self._late_s = late_s
        self._period_s = period_s
        self._gui = threading.get_ident()
        self._halt = threading.Event()
        # Milliseconds per place (a Counter counts in whole numbers only).
        self.gui: defaultdict[str, float] = defaultdict(float)
        self.others: defaultdict[str, float] = defaultdict(float)

    def reset(self) -> None:
        self.gui, self.others = defaultdict(float), defaultdict(float)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def run(self) -> None:
        previous = 0.0
        while not self._halt.wait(self._period_s):
            now = time.perf_counter()
            if not self._probe.measuring or now - self._probe.last_tick < self._late_s:
                previous = 0.0
                continue
            weight = min(now - previous, 0.02) * 1000 if previous else self._period_s * 1000
            previous = now
            for ident, frame in sys._current_frames().items():
                if ident == self._gui:
                    self.gui[where(frame)] += weight
                elif ident != self.ident:
                    place = where(frame, gui=False)
                    if place:
                        self.others[place] += weight


def heaviest(weights: dict[str, float], count: int = 3) -> list[tuple[str, float]]:
    """The ``count`` places that took the most time, the heaviest first."""
    return heapq.nlargest(count, weights.items(), key=lambda place: place[1])


def where(frame: Any, *, gui: bool = True) -> str:
    """The innermost frames of a stack that say where the time goes: up to three frames of
    the console, and the library frame below them if there is one."""
    chain: list[str] = []
    library = ""
    while frame is not None and len(chain) < 3:
        path = frame.f_code.co_filename
        name = f"{frame.f_code.co_name}:{frame.f_lineno}"
        if "/console/" in path:
            chain.append(f"console/{path.rsplit('/console/', 1)[1]}:{name}")
        elif "/bench/" in path and not chain:
            if gui:  # our own event loop: the time is in Qt's C++ (or waiting for the GIL)
                return "Qt event loop (C++: paint, layout, style; or waiting for the GIL)"
            return ""
        elif not chain and not library and "threading.py" not in path:
            parts = Path(path).parts
            tail = "/".join(parts[-2:])
            library = f"{tail}:{name}"
        frame = frame.f_back
    if not chain:
        return library  # a worker idle in the thread pool has no frames of its own
    return " ← ".join(([f"[{library}]"] if library else []) + chain)


# --- the steps ----------------------------------------------------------------------------------


@dataclass
class Step:
    name: str
    stall_ms: float = 0.0
    sync_ms: float = 0.0
    sync_what: str = ""
    #: From the last action to the awaited result (what the person waits for).
    wait_ms: float = 0.0
    problem: str = ""
    #: Something seen on the way that is not a stall (a shortcut that did nothing).
    note: str = ""
    gui: list[tuple[str, float]] = field(default_factory=list)
    collections: list[tuple[str, int, float]] = field(default_factory=list)
    others: list[tuple[str, float]] = field(default_factory=list)
    _last_action: float = 0.0

    @property
    def verdict(self) -> str:
        if self.problem:
            return "ERROR"
        return "pass" if self.stall_ms <= LIMIT_MS else "FAIL"


class StepFailed(Exception):
    """A step's result did not come, or the window was not in the expected state."""


def signalled(signal: Any) -> list[object]:
    """A list that gets each emission of ``signal``: ``bool(list)`` once it was emitted."""
    emitted: list[object] = []
    signal.connect(lambda *args: emitted.append(args))
    return emitted


def app() -> QApplication:
    """The application: the parent of every helper object made while measuring. (The stack
    sampler may hold the last reference to a frame; a parentless QTimer in it would then be
    destroyed on the sampler's thread, which Qt forbids.)"""
    instance = QApplication.instance()
    assert isinstance(instance, QApplication)
    return instance


def run_loop(seconds: float, done: Callable[[], bool] | None = None) -> bool:
    """Run the GUI event loop for ``seconds``, or until ``done()``; whether it is done.
    A nested ``QEventLoop`` sleeps in the event dispatcher, as ``app.exec()`` does."""
    if done is not None and done():
        return True
    loop, deadline, poll = QEventLoop(app()), QTimer(app()), QTimer(app())
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    poll.setInterval(2)
    errors: list[Exception] = []

    def check() -> None:
        try:
            if done is not None and done():
                loop.quit()
        except Exception as error:  # raised below, not lost in a Qt slot
            errors.append(error)
            loop.quit()

    if done is not None:
        poll.timeout.connect(check)
        poll.start()
    deadline.start(round(seconds * 1000))
    loop.exec()
    for used in (poll, deadline, loop):
        used.deleteLater()
    if errors:
        raise errors[0]
    return done() if done is not None else True


class Driver:
    """Runs the steps, measures each, and keeps the results."""

    def __init__(self, probe: StallProbe, sampler: StackSampler | None) -> None:
        self.probe = probe
        self.sampler = sampler
        self.steps: list[Step] = []
        self.settled: Callable[[], bool] = lambda: True
        self._step: Step | None = None

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        step = Step(name)
        self._step = step
        print(f"  {name} …", end="", flush=True)
        if self.sampler:
            self.sampler.reset()
        self.probe.begin()
        try:
            yield
            if not run_loop(TIMEOUT_S, self.settled):
                raise StepFailed("the window did not settle")
            run_loop(SETTLE_S)  # late answers (a count, a re-read) belong to this step
        except Exception as error:  # a measurement: record it and go on with the next step
            step.problem = f"{type(error).__name__}: {error}"
        step.stall_ms = self.probe.end()
        step.collections = self.probe.collections
        if self.sampler:
            step.gui = heaviest(self.sampler.gui)
            step.others = heaviest(self.sampler.others)
        self.steps.append(step)
        print(f" stall {step.stall_ms:.0f} ms  {step.verdict}  {step.problem}", flush=True)

    def restart(self) -> None:
        """Measure the stall from now on (the step's timings so far are kept)."""
        if self.sampler:
            self.sampler.reset()
        self.probe.begin()

    def call(self, what: str, action: Callable[[], object]) -> None:
        """Make one synchronous call on the GUI thread, timed with QElapsedTimer."""
        step = self._step
        assert step is not None
        timer = QElapsedTimer()
        timer.start()
        action()
        elapsed = timer.nsecsElapsed() / 1e6
        if elapsed > step.sync_ms:
            step.sync_ms, step.sync_what = elapsed, what
        step._last_action = time.perf_counter()

    def note(self, text: str) -> None:
        """Remember something seen in this step that is not a stall."""
        assert self._step is not None
        self._step.note = text

    def wait(self, what: str, done: Callable[[], bool], timeout: float | None = None) -> None:
        """Run the event loop until ``done()``: the person waits for ``what`` (at most
        ``timeout`` seconds, ``TIMEOUT_S`` unless given)."""
        step = self._step
        assert step is not None
        seconds = timeout or TIMEOUT_S
        finished = run_loop(seconds, done)
        if not finished:
            raise StepFailed(f"no {what} within {seconds:.0f} s")
        step.wait_ms = (time.perf_counter() - (step._last_action or time.perf_counter())) * 1000

    def type_text(self, widget: Any, typed: str) -> None:
        """Type ``typed`` one key at a time, the event loop running between keys."""
        for char in typed:
            self.call(f"key '{char}'", partial(QTest.keyClicks, widget, char))
            run_loop(TYPING_S)


def quiet_offscreen(_kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    """Qt's messages on stderr, but for the offscreen platform's note on every dialog."""
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


# --- the report --------------------------------------------------------------------------------


def render(steps: list[Step], header: list[str]) -> str:
    """The results as Markdown: the table, then where the time goes in each slow step."""
    lines = [*header, ""]
    lines += [
        "| # | Step | Max GUI stall (ms) | Slowest sync call (ms) | Wait for result (ms) | "
        f"≤ {LIMIT_MS:.0f} ms |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for number, step in enumerate(steps, 1):
        sync = f"{step.sync_ms:.0f} ({step.sync_what})" if step.sync_what else "—"
        verdict = step.verdict if not step.problem else f"ERROR: {step.problem}"
        verdict += f" — {step.note}" if step.note else ""
        lines.append(
            f"| {number} | {step.name} | {step.stall_ms:.0f} | {sync} | {step.wait_ms:.0f} | "
            f"{verdict} |"
        )
    slow = [s for s in steps if s.stall_ms > LIMIT_MS / 2]
    if slow:
        lines += [
            "",
            f"## Where the time goes in stalls over {LIMIT_MS / 2:.0f} ms",
            "",
            "Sampled every 2 ms while a tick was more than 30 ms late (the GUI thread's Python "
            "stack, innermost first; `[library]` is the frame below the console's own), and "
            "every garbage collection of 5 ms or more (`gc.callbacks`).",
            "",
        ]
        for step in slow:
            lines.append(f"**{step.name}** — stall {step.stall_ms:.0f} ms")
            lines += [f"- GUI thread: `{place}` ≈ {ms:.0f} ms" for place, ms in step.gui]
            lines += [f"- meanwhile, other thread: `{p}` ≈ {ms:.0f} ms" for p, ms in step.others]
            lines += [
                f"- Python garbage collection (generation {generation}) on {thread}: {ms:.0f} ms"
                " (it holds the GIL: no Python runs on the GUI thread meanwhile)"
                for thread, generation, ms in step.collections
            ]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
