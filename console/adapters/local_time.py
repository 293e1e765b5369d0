"""How a moment reads on screen, in the workstation's local time. Qt-free, so that the
presenters that word a confirmation and the tables that show a column say it alike."""

from __future__ import annotations

import datetime as dt


def when(moment: dt.datetime) -> str:
    """ "2 Mar 2026 09:00" in the workstation's local time."""
    local = moment.astimezone()
    return f"{local.day} {local:%b %Y %H:%M}"


__all__ = ["when"]
