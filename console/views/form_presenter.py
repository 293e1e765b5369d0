"""What every action dialog's form allows, without Qt: whether what it shows is still being
read, whether its action is on its way, whether it can be changed, and whether its action
and Cancel can be pressed.

The rule is the same in every dialog, so it is written once: nothing can be changed before
the subject is read or while the action is on its way; the action waits for the subject, for
the newest reading and for everything the person must give (``still_needed``); Cancel is
refused only while the action is on its way (it cannot be called back). A dialog's own form
(``RevokeForm``, ``LinkForm``) adds what only it says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self


@dataclass(frozen=True)
class FormState:
    """What a dialog's controls allow now."""

    #: What it shows is being read.
    loading: bool
    #: The action is on its way (the dialog can be neither changed nor cancelled).
    busy: bool
    #: What the person gives can be changed.
    editable: bool
    #: The action (Revoke, Link, Save…) can be pressed.
    accept_enabled: bool
    cancel_enabled: bool
    #: What is still missing before the action can be taken ("" when nothing is).
    still_needed: str

    @classmethod
    def decide(
        cls, *, loaded: bool, loading: bool, busy: bool, still_needed: str, **more: Any
    ) -> Self:
        """The form for a dialog whose subject is ``loaded`` (read, and not yet acted on);
        ``more`` gives the fields a dialog's own form adds."""
        return cls(
            loading=loading,
            busy=busy,
            editable=loaded and not busy,
            accept_enabled=loaded and not busy and not loading and not still_needed,
            cancel_enabled=not busy,
            still_needed=still_needed,
            **more,
        )


__all__ = ["FormState"]
