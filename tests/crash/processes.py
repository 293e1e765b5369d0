"""Starting, watching and killing the crash tests' child processes (``tests.crash.driver``),
and how many kills a run makes (``PORTAL_CRASH``).

A child is a real process of its own (see ``_FORKS``) running ``tests.crash.driver``: its
standard output is a pipe read line by line on a thread (so that it never blocks on a full
pipe, and the parent can wait for a line), its standard error a file shown when it fails.
It is killed with SIGKILL, which nothing in it can catch or clean up after: the closest a
test gets to a power cut for the process (the operating system still writes what SQLite
handed it).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.crash import driver
from tests.crash.common import ACCEPTED, AUDIT_KEY_HEX, FINISHED, READY, STAFF_PASSWORD

#: Children are forked from a server process that has imported the driver (and with it the
#: console, SQLAlchemy, Alembic) once: each starts in milliseconds instead of the second an
#: interpreter takes to import them, and none inherits this process's threads (the SMTP
#: server's, pytest's) or open connections, as a plain fork would.
_FORKS = multiprocessing.get_context("forkserver")
# Each child also runs the parent's main script again, as "__mp_main__" (so pytest's does not
# start a test run): with pytest imported once by the server, that costs nothing.
_FORKS.set_forkserver_preload(["pytest", "tests.crash.driver"])
#: What a scheduled job would set: the audit key, and the staff password for signing in.
_CHILD_ENVIRONMENT = {
    "PORTAL_CONSOLE_AUDIT_KEY": AUDIT_KEY_HEX,
    "PORTAL_CONSOLE_STAFF_PASSWORD": STAFF_PASSWORD,
}
#: Long enough for a child on a busy CI machine to start or finish, short enough that a hung
#: one fails the test instead of the whole run.
START_TIMEOUT = 60.0
FINISH_TIMEOUT = 300.0
_NOT_PROGRESS = frozenset({READY, FINISHED, ACCEPTED})


@dataclass(frozen=True)
class CrashRun:
    """How hard this run tries: ``PORTAL_CRASH=full`` for many kill points (the full run),
    anything else for the few that ``make test`` affords; ``PORTAL_CRASH_SEED`` replays a
    run's randomised kill points."""

    full: bool
    seed: int

    @classmethod
    def from_environment(cls) -> CrashRun:
        return cls(
            full=os.environ.get("PORTAL_CRASH", "").strip().lower() == "full",
            seed=int(os.environ.get("PORTAL_CRASH_SEED", "2026")),
        )

    def kills(self, fast: int, full: int) -> int:
        """How many kills a scenario makes in this run."""
        return full if self.full else fast

    def kill_points(self, name: str, count: int, steps: int, jitter: float) -> list[KillPoint]:
        """``count`` points to kill a child at, spread over its ``steps`` progress lines:
        once it has said the Nth (0: only that it is ready), a random delay of up to
        ``jitter`` seconds more. The Ns come one from each equal slice of 0..steps-1, placed
        at random in it; a generator seeded by the run's seed and ``name`` draws them, so
        the same seed gives the same points."""
        rng = random.Random(f"{self.seed}:{name}")
        width = steps / count
        points = [
            KillPoint(min(int(width * (i + rng.random())), steps - 1), rng.uniform(0, jitter))
            for i in range(count)
        ]
        rng.shuffle(points)
        return points


@dataclass(frozen=True)
class KillPoint:
    """Kill once the child has said ``after`` progress lines, ``delay`` seconds later."""

    after: int
    delay: float


@dataclass(frozen=True)
class Landing:
    """Where a kill landed: the progress lines the child had said by then (a step may have
    committed without having been said), or that it finished first."""

    point: KillPoint
    progress: int
    killed: bool

    def __str__(self) -> str:
        at = f"after progress line {self.point.after} + {self.point.delay * 1000:.0f} ms"
        return f"kill {at} ({'killed' if self.killed else 'finished first'}, {self.progress} said)"


class Child:
    """A running child process doing ``tests.crash.driver``'s work."""

    def __init__(self, arguments: Sequence[str], stderr_file: Path) -> None:
        self.stderr_file = stderr_file
        reader, writer = _FORKS.Pipe(duplex=False)
        self.process = _FORKS.Process(
            target=driver.run_child,
            args=(writer, list(arguments), str(stderr_file), _CHILD_ENVIRONMENT),
            name="crash-test-child",
        )
        self.process.start()
        writer.close()  # the child's copy is the only one left: its end is the end of file
        self._output = os.fdopen(os.dup(reader.fileno()), "r", encoding="utf-8")
        reader.close()
        self.killed = False
        self._lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self._output:
            with self._changed:
                self._lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    @property
    def lines(self) -> list[str]:
        """What the child has said so far."""
        with self._changed:
            return list(self._lines)

    @property
    def progress(self) -> int:
        """How many progress lines the child has said."""
        return progress(self.lines)

    def wait_for(self, wanted: Callable[[list[str]], bool], timeout: float = START_TIMEOUT) -> bool:
        """Wait until what the child said satisfies ``wanted`` (True), or its output ends
        or ``timeout`` passes (False)."""
        with self._changed:
            self._changed.wait_for(
                lambda: wanted(self._lines) or not self._reader.is_alive(), timeout
            )
            return wanted(self._lines)

    def wait_ready(self) -> None:
        """Wait until the child has set up and is about to start its work."""
        if not self.wait_for(lambda lines: READY in lines):
            self.kill()
            raise AssertionError(f"the child did not start:\n{self.errors()}")

    def kill_at(self, point: KillPoint) -> Landing:
        """Kill the child at ``point`` (unless it finishes first); where that landed."""
        self.wait_for(lambda lines: progress(lines) >= point.after, FINISH_TIMEOUT)
        self.process.join(timeout=point.delay)
        if self.process.exitcode is None:
            self.kill()
            return Landing(point, self.progress, killed=True)
        self._close()
        return Landing(point, self.progress, killed=False)

    def stop(self) -> None:
        """SIGSTOP: the child stands still wherever it is, until it is killed."""
        os.kill(self.pid, signal.SIGSTOP)

    def kill(self) -> None:
        """SIGKILL (also a stopped child), and wait for it to be gone."""
        if self.process.exitcode is None:
            os.kill(self.pid, signal.SIGKILL)
            self.killed = True
        self.process.join(timeout=START_TIMEOUT)
        self._close()

    def finish(self) -> list[str]:
        """Wait for the child to end on its own; its output. Fails on any other ending."""
        self.process.join(timeout=FINISH_TIMEOUT)
        if self.process.exitcode is None:
            self.kill()
            raise AssertionError(f"the child did not finish:\n{self.errors()}")
        self._close()
        if self.process.exitcode != 0 or FINISHED not in self.lines:
            raise AssertionError(
                f"the child ended with status {self.process.exitcode}:\n{self.errors()}"
            )
        return self.lines

    def errors(self) -> str:
        """The child's standard error (tracebacks), for a failure message."""
        try:
            return self.stderr_file.read_text()[-4000:]
        except OSError:
            return "(no standard error)"

    def _close(self) -> None:
        self._reader.join(timeout=START_TIMEOUT)
        self._output.close()


def progress(lines: list[str]) -> int:
    """How many of ``lines`` are progress lines (every line but the fixed ones)."""
    return sum(line not in _NOT_PROGRESS for line in lines)


@contextmanager
def children() -> Iterator[list[Child]]:
    """A list to keep every child started in, each killed (by its id) if it is still
    running when the block ends, so that a failed test leaves none behind."""
    started: list[Child] = []
    try:
        yield started
    finally:
        for child in started:
            if child.process.exitcode is None:
                child.kill()


def launch(running: list[Child], folder: Path, scenario: str, *arguments: str) -> Child:
    """A new child doing ``scenario``, its standard error kept in ``folder``."""
    child = Child([scenario, *arguments], folder / f"child-{len(running) + 1}.stderr")
    running.append(child)
    return child


def start(running: list[Child], folder: Path, scenario: str, *arguments: str) -> Child:
    """A new child doing ``scenario``, once it is ready to start its work."""
    child = launch(running, folder, scenario, *arguments)
    child.wait_ready()
    return child


__all__ = ["Child", "CrashRun", "KillPoint", "Landing", "children", "launch", "start"]
