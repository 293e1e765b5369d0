"""The account table's memory: a bounded, least-recently-used cache of row windows.

The table never holds the whole list. Rows are read ``window_size`` at a time; this cache keeps
at most ``max_windows`` of those windows, forgets the one used longest ago when full, and keeps
the book of which windows are wanted: the queue of windows to read, the ones being read, and a
*generation* that tells an answer still wanted from one asked for by a list that has since
been replaced. It reads nothing itself (no Qt, no threads): the model asks it what to read and
tells it what arrived.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Collection, Iterable
from typing import NamedTuple

from console.adapters.account_cells import row_texts
from console.models.account_list import AccountRow

#: Rows read at a time: a few screens' worth. Every row read costs the first page some
#: microseconds before it can be painted, so larger windows only delay the rows on screen.
WINDOW_SIZE = 100

#: Windows read at the same time; more would only queue up behind SQLite's reader.
MAX_PARALLEL_FETCHES = 2


class AccountLine(NamedTuple):
    """One row as the table shows it: the account and the text of each of its cells."""

    row: AccountRow
    texts: tuple[str, ...]


class _Window:
    """Rows read together; each row's ``AccountLine`` is made when it is first shown."""

    def __init__(self, rows: list[AccountRow]) -> None:
        self.rows = rows
        self.lines: list[AccountLine | None] = [None] * len(rows)
        self.stale = False

    def line(self, offset: int) -> AccountLine | None:
        if offset >= len(self.rows):
            return None
        line = self.lines[offset]
        if line is None:
            row = self.rows[offset]
            line = self.lines[offset] = AccountLine(row, row_texts(row))
        return line


class AccountWindows:
    """The windows of one account list in memory, and which of them are to be read.

    ``line()`` answers from memory only; a missing or stale window is queued and
    ``on_wanted`` is called, after which the owner takes the reads to start with
    ``fetches_to_start()`` and reports each answer with ``fetch_ended()``."""

    def __init__(
        self,
        on_wanted: Callable[[], None],
        *,
        window_size: int = WINDOW_SIZE,
        max_windows: int = 50,
        max_parallel: int = MAX_PARALLEL_FETCHES,
    ) -> None:
        self._on_wanted = on_wanted
        self.window_size = window_size
        self.max_windows = max_windows
        self.max_parallel = max_parallel
        #: Raised whenever the list is replaced; reads of an older generation are not stored.
        self.generation = 0
        self._windows: OrderedDict[int, _Window] = OrderedDict()
        self._pending: set[int] = set()
        self._queue: deque[int] = deque()
        self._running = 0
        self._closed = False

    def __len__(self) -> int:
        """Windows held in memory (never more than ``max_windows``)."""
        return len(self._windows)

    @property
    def fetching(self) -> bool:
        """Whether a window read has been started and not yet reported back."""
        return self._running > 0

    def line(self, row: int) -> AccountLine | None:
        """Row ``row`` if its window is in memory (a stale one is still answered, and read
        again); otherwise None, and its window is queued."""
        number, offset = divmod(row, self.window_size)
        window = self._windows.get(number)
        if window is None or window.stale:
            self._want(number)
        if window is None:
            return None
        self._windows.move_to_end(number)
        return window.line(offset)

    def _want(self, number: int) -> None:
        if self._closed or number in self._pending:
            return
        self._pending.add(number)
        self._queue.append(number)
        # Fetch what was asked for last first: after a long scroll, the rows on screen come
        # before the ones flown past, which are forgotten once the queue is full.
        while len(self._queue) > self.max_windows:
            self._pending.discard(self._queue.popleft())
        self._on_wanted()

    def fetches_to_start(self) -> list[int]:
        """The windows to read now (newest wish first), counted as being read from here on."""
        numbers: list[int] = []
        while not self._closed and self._queue and self._running < self.max_parallel:
            numbers.append(self._queue.pop())
            self._running += 1
        return numbers

    def fetch_ended(self, generation: int, number: int) -> bool:
        """A read of window ``number`` came back (or failed); whether its answer is still
        wanted, i.e. the list was not replaced meanwhile."""
        self._running -= 1
        if generation != self.generation or self._closed:
            return False
        self._pending.discard(number)
        return True

    def store(self, number: int, rows: list[AccountRow], *, stale: bool = False) -> None:
        """Keep ``rows`` as window ``number``, forgetting the least recently used beyond
        ``max_windows``; ``stale``: show them, but read them again when next shown."""
        window = self._windows[number] = _Window(rows)
        window.stale = stale
        self._windows.move_to_end(number)
        while len(self._windows) > self.max_windows:
            self._windows.popitem(last=False)

    def forget_wishes(self) -> None:
        """Drop queued reads and disown running ones: the list they belong to is replaced."""
        self.generation += 1
        self._pending.clear()
        self._queue.clear()

    def start_over(self, first_rows: list[AccountRow], *, stale: bool = False) -> None:
        """Hold only ``first_rows``, as window 0 of a new list."""
        self._windows.clear()
        self.store(0, first_rows, stale=stale)

    def held(self, account_ids: Collection[int]) -> frozenset[int]:
        """Those of ``account_ids`` whose rows are in memory."""
        return frozenset(
            row.account_id
            for window in self._windows.values()
            for row in window.rows
            if row.account_id in account_ids
        )

    def replace_rows(self, rows: Iterable[AccountRow]) -> list[int]:
        """Put ``rows`` in place of the rows in memory with the same account ids, where they
        stand; the list's row numbers whose data is now different, in order. Nothing moves:
        the windows keep their places in the list."""
        fresh = {row.account_id: row for row in rows}
        changed: list[int] = []
        for number, window in self._windows.items():
            for offset, old in enumerate(window.rows):
                new = fresh.get(old.account_id)
                if new is not None and new != old:
                    window.rows[offset] = new
                    window.lines[offset] = None
                    changed.append(number * self.window_size + offset)
        return sorted(changed)

    def mark_stale(self) -> None:
        """Keep every window for showing, but read each again when it is next shown."""
        for window in self._windows.values():
            window.stale = True

    def drop_from(self, row_count: int) -> None:
        """Forget the windows that lie wholly past the list's last row."""
        for number in [n for n in self._windows if n * self.window_size >= row_count]:
            del self._windows[number]

    def clear(self) -> None:
        """Hold nothing and want nothing; reads still running are disowned."""
        self.forget_wishes()
        self._windows.clear()

    def close(self) -> None:
        """Want nothing more, ever: the reader is closed and answers nothing."""
        self._closed = True
        self._queue.clear()
        self._running = 0


def runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as (first, last) runs of consecutive numbers."""
    found: list[tuple[int, int]] = []
    for row in rows:
        if found and found[-1][1] == row - 1:
            found[-1] = (found[-1][0], row)
        else:
            found.append((row, row))
    return found
