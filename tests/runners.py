"""Stand-ins for the worker (``JobRunner.submit``) in presenter tests: the presenter cannot
tell them apart from the real one, and the test decides when the work runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class InlineRunner:
    """Runs the work at once, on the calling thread; counts the calls."""

    def __init__(self) -> None:
        self.calls = 0

    def submit(
        self,
        work: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        self.calls += 1
        try:
            result = work()
        except Exception as error:
            on_error(error)
        else:
            on_done(result)


class HeldRunner:
    """Keeps the work until the test runs it."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Callable[[], Any], Callable[[Any], None], Callable[..., None]]] = []

    def submit(self, work: Callable[[], Any], on_done: Any, on_error: Any) -> None:
        self.jobs.append((work, on_done, on_error))

    def run_all(self) -> None:
        jobs, self.jobs = self.jobs, []
        for work, on_done, on_error in jobs:
            InlineRunner().submit(work, on_done, on_error)
