"""Where the services get the time from.

Lock-outs, rate limits and expiries all depend on "now"; the services take a ``Clock`` so
that tests move time forward instead of sleeping, and every timestamp they write is an aware
UTC datetime.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    """Tells the current time."""

    def now(self) -> dt.datetime:
        """The current time as an aware UTC datetime."""
        ...


class SystemClock:
    """The computer's clock, in UTC."""

    def now(self) -> dt.datetime:
        """The current time as an aware UTC datetime."""
        return dt.datetime.now(dt.UTC)


class ManualClock:
    """A clock that stands still until it is moved: for tests, and for replaying events."""

    def __init__(self, start: dt.datetime) -> None:
        self._now = _aware_utc(start)

    def now(self) -> dt.datetime:
        """The time the clock was last set or moved to."""
        return self._now

    def advance(self, delta: dt.timedelta | None = None, **units: float) -> dt.datetime:
        """Move forward by ``delta`` or by ``timedelta(**units)`` (``minutes=15``); returns
        the new time. Time never goes backwards."""
        step = (delta or dt.timedelta()) + dt.timedelta(**units)
        if step < dt.timedelta():
            raise ValueError("a clock only moves forward")
        self._now += step
        return self._now

    def set(self, when: dt.datetime) -> None:
        """Jump to ``when`` (forward or back, e.g. to replay a scenario)."""
        self._now = _aware_utc(when)


def _aware_utc(when: dt.datetime) -> dt.datetime:
    if when.tzinfo is None:
        raise ValueError("a clock needs a time with a time zone")
    return when.astimezone(dt.UTC)


__all__ = ["Clock", "ManualClock", "SystemClock"]
