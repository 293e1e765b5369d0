"""The request sequencer of the account table: which filter and sort to read next, and the
two reads that answer each request, in order, with superseded answers dropped.

A request (new filter, new sort, refresh) is answered by two reads, one after the other: the
first window, then the count. The first window is shown as soon as it is there, with as many
rows as it holds; the count then grows the table to its full length. It starts a moment after
the rows were shown: counting a million index entries, or the matches of a common trigram,
would otherwise compete with painting them for the two cores and the GIL. (A refresh shows
its rows and its count together, and counts at once.) Only one request is read at a time: one
that comes while a first window is being read (a fast typist) waits, and only the newest of
the waiting ones is read when that read ends. A request overtaken before it was counted is
not counted at all.

The sequencer decides what to read and when; the model (``account_table``) decides what an
answer changes on screen.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer

from console.models.account_list import AccountFilter, AccountRow, AccountSort
from console.workers.job_runner import JobRunner


class CountsAndWindows(Protocol):
    """The reads a request needs (``AccountSource``'s first two); safe on a worker thread."""

    def count(self, account_filter: AccountFilter) -> int: ...

    def window(
        self, account_filter: AccountFilter, sort: AccountSort, offset: int, limit: int
    ) -> list[AccountRow]: ...


class AccountSource(CountsAndWindows, Protocol):
    """Where the account table's rows come from (``console.models.account_list.AccountList``);
    every call must be safe to make from a worker thread."""

    def rows_by_id(self, account_ids: Collection[int]) -> list[AccountRow]:
        """The accounts ``account_ids`` as they are now, whatever the filter."""
        ...


@dataclass(frozen=True)
class AccountQuery:
    """What the table shows: a filter and an order."""

    account_filter: AccountFilter
    sort: AccountSort


@dataclass
class Answer:
    """The two reads that answer one request, as they arrive."""

    serial: int
    query: AccountQuery
    #: The model's count of account changes when the first window's read started.
    changes_seen: int = 0
    first_rows: list[AccountRow] | None = None
    count: int | None = None
    failed: bool = False
    #: The first window is on screen.
    shown: bool = False
    #: The count announced with ``row_count_changed``.
    shown_count: int | None = None

    def set_rows(self, rows: list[AccountRow]) -> None:
        self.first_rows = rows

    def set_count(self, count: int) -> None:
        self.count = count

    @property
    def complete(self) -> bool:
        """Both reads arrived, or one failed."""
        return self.failed or (self.first_rows is not None and self.count is not None)


class RequestSequencer(QObject):
    """Reads the newest request's first window, then its count, on ``runner``; hands each
    part of the newest answer to ``show`` and a failure of it to ``failed``; calls
    ``changed`` whenever ``busy`` may have changed. ``changes_seen`` stamps each answer."""

    #: How long (ms) counting waits after a new first window was shown: time for the view
    #: to paint it without a count competing for the cores and the GIL.
    COUNT_DELAY_MS = 50

    def __init__(
        self,
        source: CountsAndWindows,
        runner: JobRunner,
        window_size: int,
        *,
        show: Callable[[Answer], None],
        failed: Callable[[Exception], None],
        changed: Callable[[], None],
        changes_seen: Callable[[], int],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._source = source
        self._runner = runner
        self._window_size = window_size
        self._show = show
        self._failed = failed
        self._changed = changed
        self._changes_seen = changes_seen
        self.requested = AccountQuery(AccountFilter(), AccountSort())
        self._request_serial = 0
        self._read_serial = 0
        self._answer: Answer | None = None
        self._paused = False
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.timeout.connect(self._count_answer)

    @property
    def busy(self) -> bool:
        """Whether an answer is being read."""
        return self._answer is not None

    def ask(self, query: AccountQuery | None = None) -> None:
        """Read ``query`` (else what was requested last) anew; while paused, once resumed."""
        if query is not None:
            self.requested = query
        self._request_serial += 1
        answer = self._answer
        if answer is not None and answer.shown:  # on screen: only its count is missing
            self._count_timer.stop()
            self._answer = None  # a count still running is ignored when it arrives
        self._read_newest_request()

    def pause(self) -> None:
        """Read nothing and disown the answer being read: when it comes, it is dropped."""
        self._paused = True
        self._count_timer.stop()
        self._request_serial += 1
        self._read_serial = self._request_serial
        self._answer = None

    def resume(self) -> None:
        """Read the newest request again."""
        self._paused = False
        self.ask()

    # --- the reads ---------------------------------------------------------------------------

    def _read_newest_request(self) -> None:
        if self._paused or self._answer is not None or self._read_serial == self._request_serial:
            self._changed()
            return  # the newest request is read when the current reads end
        self._read_serial = self._request_serial
        answer = Answer(self._request_serial, self.requested, self._changes_seen())
        self._answer = answer
        query = answer.query
        window = partial(self._source.window, query.account_filter, query.sort)
        self._read_part(answer, partial(window, 0, self._window_size), answer.set_rows)
        self._changed()

    def _read_part(
        self, answer: Answer, work: Callable[[], Any], record: Callable[[Any], None]
    ) -> None:
        self._runner.submit(
            work,
            partial(self._part_arrived, answer, record),
            partial(self._part_failed, answer),
        )

    def _part_arrived(self, answer: Answer, record: Callable[[Any], None], value: object) -> None:
        if self._paused:
            return  # this request was disowned, and resuming reads a fresh one
        record(value)
        if answer.serial == self._request_serial:
            self._show(answer)
            if answer.count is None:
                self._count_timer.start(self.COUNT_DELAY_MS if answer.shown else 0)
                return
        self._finish(answer)

    def _count_answer(self) -> None:
        answer = self._answer
        if answer is None or self._paused:
            return
        if answer.serial != self._request_serial:
            self._finish(answer)  # overtaken before it was counted
            return
        count = partial(self._source.count, answer.query.account_filter)
        self._read_part(answer, count, answer.set_count)

    def _part_failed(self, answer: Answer, error: Exception) -> None:
        if self._paused or answer.failed:
            return
        answer.failed = True
        if answer.serial == self._request_serial:
            self._failed(error)
        self._finish(answer)

    def _finish(self, answer: Answer) -> None:
        if answer is self._answer:
            self._answer = None
        self._read_newest_request()


__all__ = ["AccountQuery", "AccountSource", "Answer", "CountsAndWindows", "RequestSequencer"]
