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


@dataclass(frozen=True)
class Collection:
    """A garbage collection of 5 ms or more: on which thread, which generation, how long,
    and when it ended (``time.perf_counter()``)."""

    thread: str
    generation: int
    ms: float
    ended: float


@dataclass
class LateTick:
    """One stall: the probe's tick that came late, when the tick before it came
    (``time.perf_counter()``), by how much it was late, and where every thread's time went
    meanwhile (sampled)."""

    since: float
    ms: float = 0.0
    #: The GUI thread's ``thread_schedule()`` when the stall began, then its time during
    #: the stall on a CPU and waiting for one.
    schedule: tuple[float, float] = (0.0, 0.0)
    on_cpu_ms: float = 0.0
    runnable_ms: float = 0.0
    gui: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    others: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))

    def collections(self, seen: list[Collection]) -> list[Collection]:
        """The collections of ``seen`` that ended during this stall."""
        until = self.since + (self.ms + TICK_MS) / 1000
        return [c for c in seen if self.since <= c.ended <= until]


def thread_schedule() -> tuple[float, float]:
    """The calling thread's time so far on a CPU and waiting for one (runnable), in ms, from
    Linux's ``/proc/thread-self/schedstat`` (zeros elsewhere). Over a stall, what is neither
    was spent blocked: waiting for the GIL, a lock, or the disk."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as file:
            on_cpu, runnable, _ = file.read().split()
    except (OSError, ValueError):
        return 0.0, 0.0
    return int(on_cpu) / 1e6, int(runnable) / 1e6


class StallProbe(QObject):
    """A 5 ms timer on the GUI thread; the largest gap between its ticks is the stall."""

    def __init__(self) -> None:
        super().__init__()
        self.last_tick = time.perf_counter()
        self.max_gap = 0.0
        self.measuring = False
        #: Garbage collections of 5 ms or more during the step. A collection holds the GIL,
        #: so no Python runs on the GUI thread meanwhile.
        self.collections: list[Collection] = []
        self.began = self.last_tick
        #: The GUI thread's ``thread_schedule()`` at the last tick.
        self.last_schedule = thread_schedule()
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
        self.last_schedule = thread_schedule()  # first: a new tick means a new schedule
        self.last_tick = now

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        took = (time.perf_counter() - self._gc_started) * 1000
        if self.measuring and took >= 5:
            thread = threading.current_thread()
            name = "GUI thread" if thread is threading.main_thread() else "a worker thread"
            self.collections.append(Collection(name, info["generation"], took, time.perf_counter()))

    def begin(self) -> None:
        self.last_tick = self.began = time.perf_counter()
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
    with it for the GIL. Each sample is weighted by the time since the previous one, and
    counted for the step and for the stall it belongs to (``stalls``, each ``LateTick``
    kept once its tick came, if it was at least ``keep_ms`` late)."""

    def __init__(
        self,
        probe: StallProbe,
        late_s: float = 0.03,
        period_s: float = 0.002,
        keep_ms: float = LIMIT_MS / 2,
    ) -> None:
        super().__init__(name="stall-sampler", daemon=True)
        self._probe = probe
        self._late_s = late_s
        self._period_s = period_s
        self._keep_ms = keep_ms
        self._gui = threading.get_ident()
        self._halt = threading.Event()
        self._lock = threading.Lock()
        # Milliseconds per place (a Counter counts in whole numbers only).
        self.gui: defaultdict[str, float] = defaultdict(float)
        self.others: defaultdict[str, float] = defaultdict(float)
        self.stalls: list[LateTick] = []
        self._open: LateTick | None = None

    def reset(self) -> None:
        with self._lock:
            self.gui, self.others = defaultdict(float), defaultdict(float)
            self.stalls, self._open = [], None

    def flush(self) -> None:
        """Keep the stall under way, if its tick came (the step is over)."""
        with self._lock:
            self._close_if_ticked()

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def _close_if_ticked(self) -> None:
        late, tick = self._open, self._probe.last_tick
        if late is not None and tick != late.since:
            late.ms = (tick - late.since) * 1000 - TICK_MS
            (on_cpu, runnable), before = self._probe.last_schedule, late.schedule
            late.on_cpu_ms, late.runnable_ms = on_cpu - before[0], runnable - before[1]
            if late.ms >= self._keep_ms:
                self.stalls.append(late)
            self._open = None

    def run(self) -> None:
        previous = 0.0
        while not self._halt.wait(self._period_s):
            with self._lock:
                previous = self._sample(previous)

    def _sample(self, previous: float) -> float:
        now = time.perf_counter()
        self._close_if_ticked()
        tick = self._probe.last_tick
        if not self._probe.measuring or now - tick < self._late_s:
            return 0.0
        if self._open is None:
            self._open = LateTick(tick, schedule=self._probe.last_schedule)
        late = self._open
        weight = min(now - previous, 0.02) * 1000 if previous else self._period_s * 1000
        for ident, frame in sys._current_frames().items():
            if ident == self._gui:
                place = where(frame)
                self.gui[place] += weight
                late.gui[place] += weight
            elif ident != self.ident:
                place = where(frame, gui=False)
                if place:
                    self.others[place] += weight
                    late.others[place] += weight
        return now


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
    collections: list[Collection] = field(default_factory=list)
    others: list[tuple[str, float]] = field(default_factory=list)
    #: Every stall of at least ``LIMIT_MS / 2`` in the step, the longest first.
    stalls: list[LateTick] = field(default_factory=list)
    #: When the step's measurement began (``time.perf_counter()``).
    began: float = 0.0
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
        step.collections, step.began = self.probe.collections, self.probe.began
        if self.sampler:
            self.sampler.flush()
            step.gui = heaviest(self.sampler.gui)
            step.others = heaviest(self.sampler.others)
            step.stalls = sorted(self.sampler.stalls, key=lambda late: -late.ms)
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
