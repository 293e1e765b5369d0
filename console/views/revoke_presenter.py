"""What the revoke dialog decides, without Qt: what it says stays behind and whom the
revocation unblocks, when Revoke may be pressed, and where each answer goes.

``RevokePresenter`` reads ``revoke_preview`` on a worker (``ServiceCalls``), keeps the
reason, note and confirmation the person chose, and sends ``revoke_access`` with the version
the preview read. It tells its view (``RevokeView``: the dialog, or a test's stand-in) what
to show. A record changed elsewhere meanwhile is said plainly, the preview is read again and
nothing typed is lost; the confirmation is asked again only when what it confirmed changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from console.services.accounts.actions import (
    MAX_NOTE_LENGTH,
    RevokePreview,
    RevokeReason,
    revoke_access,
    revoke_preview,
)
from console.services.desk import StaffDesk
from console.services.errors import DomainError, StaleRecord
from console.services.workstation import Changes
from console.views.form_presenter import FormState
from console.workers.service_calls import ServiceCalls, Submitter

#: The reasons in the order the dialog lists them (SPEC §5): the shared-e-mail fix first.
REASON_CHOICES: tuple[RevokeReason, ...] = (
    RevokeReason.SHARED_EMAIL,
    RevokeReason.DUPLICATE_ACCOUNT,
    RevokeReason.PATIENT_REQUEST,
    RevokeReason.DECEASED,
    RevokeReason.SECURITY_CONCERN,
    RevokeReason.OTHER,
)

READING = "Reading the account…"
CHOOSE_REASON = "Choose a reason."
WRITE_NOTE = "Write a note saying why: the reason 'Other' needs one."
TICK_CONFIRMATION = "Tick the box once you have checked this with the patient."
UNKNOWN = "—"
CHANGED_SINCE = (
    "The account was changed by someone else meanwhile, and what stays behind or whom this "
    "unblocks is now different (shown above): check it again with the patient, then tick the "
    "box again."
)


@dataclass(frozen=True)
class RevokeFacts:
    """The preview, with the usernames of the other accounts on the same e-mail address."""

    preview: RevokePreview
    #: Usernames of ``preview.will_unblock`` and ``preview.still_shared``.
    others: tuple[str, ...]

    @property
    def left_behind(self) -> str:
        """What stays with the revoked account, in the front desk's words."""
        return left_behind_text(self.preview.message_count, self.preview.intake_form_count)

    @property
    def sharing(self) -> str:
        """Whom the revocation unblocks, or who still shares the address after it."""
        names = ", ".join(self.others)
        if self.preview.will_unblock:
            return (
                f"Unblocks {names}: it shares this account's e-mail address, and can sign in "
                "and reset its password again once this account is revoked."
            )
        if self.preview.still_shared:
            return (
                f"Unblocks no one: {len(self.others)} other accounts still share the e-mail "
                f"address afterwards ({names}) and stay blocked until each is resolved."
            )
        return "No other account uses this e-mail address; revoking unblocks no one."

    def same_as(self, other: RevokeFacts) -> bool:
        """Whether ``other`` tells the person the same (a new version may not)."""
        return (self.left_behind, self.sharing) == (other.left_behind, other.sharing)


def left_behind_text(messages: int, intake_forms: int) -> str:
    """The sentence "12 messages and 3 intake forms stay with the revoked account; …"."""
    if messages == 0 and intake_forms == 0:
        return "Nothing stays behind: the account has no messages or intake forms."
    counted = f"{_count(messages, 'message')} and {_count(intake_forms, 'intake form')}"
    return (
        f"{counted} stay with the revoked account; they do not move to a new account — "
        "the clinic keeps its own record."
    )


def _count(n: int, noun: str) -> str:
    if n == 0:
        return f"no {noun}s"
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass(frozen=True)
class RevokeForm(FormState):
    """What the dialog's controls allow and say now: ``loading`` is the preview on its way,
    ``busy`` the revocation, ``accept_enabled`` Revoke; the reason, note and confirmation
    can be changed when ``editable``."""

    note_required: bool
    confirmed: bool


class RevokeView(Protocol):
    """What the presenter tells the dialog."""

    def show_facts(self, left_behind: str, sharing: str) -> None:
        """Show what stays behind and whom the revocation unblocks."""
        ...

    def show_form(self, form: RevokeForm) -> None:
        """Enable, tick and explain the controls as ``form`` says."""
        ...

    def show_problem(self, text: str) -> None:
        """Show why something was refused ("" to clear it)."""
        ...

    def account_revoked(self, changes: Changes) -> None:
        """The account is revoked: hand ``changes`` on and close."""
        ...

    def record_changed(self) -> None:
        """The account changed elsewhere: whatever shows it should read it again."""
        ...


class RevokePresenter:
    """Reads the preview, holds the choices and revokes one account on a worker."""

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        account_id: int,
        view: RevokeView,
    ) -> None:
        self._desk = desk
        self._account_id = account_id
        self._view = view
        self._reads = ServiceCalls(runner)
        self._writes = ServiceCalls(runner)
        self._facts: RevokeFacts | None = None
        self._reason: RevokeReason | None = None
        self._note = ""
        #: Whether the login address gets the "access ended" e-mail (on unless staff untick).
        self.notify_patient = True
        self._confirmed = False
        self._done = False

    @property
    def busy(self) -> bool:
        """Whether the revocation is under way."""
        return self._writes.busy

    @property
    def facts(self) -> RevokeFacts | None:
        """The last preview read; None before it arrives or when it was refused."""
        return self._facts

    @property
    def form(self) -> RevokeForm:
        """What the controls allow now."""
        loaded = self._facts is not None and not self._done
        needed = self._still_needed()
        return RevokeForm.decide(
            loaded=loaded,
            loading=self._reads.busy,
            busy=self.busy,
            still_needed=needed,
            note_required=self._reason is RevokeReason.OTHER,
            confirmed=self._confirmed,
        )

    def load(self) -> None:
        """Read the preview on a worker and show it."""
        self._reads.cancel()  # only the newest reading counts
        if self._facts is None:
            self._view.show_facts(READING, READING)
        account_id = self._account_id
        self._reads.run(
            "Reading the account",
            lambda: self._read_facts(account_id),
            self._show_facts,
            self._preview_refused,
        )
        self._view.show_form(self.form)

    def choose_reason(self, reason: RevokeReason | None) -> None:
        """The reason chosen in the list (None: none yet)."""
        self._reason = reason
        self._view.show_form(self.form)

    def write_note(self, text: str) -> None:
        """The note as typed so far."""
        self._note = text
        self._view.show_form(self.form)

    def confirm(self, confirmed: bool) -> None:
        """The "I have checked this with the patient" box."""
        self._confirmed = confirmed
        self._view.show_form(self.form)

    def revoke(self) -> None:
        """Revoke the account with the chosen reason and note, against the version the
        preview read (the Revoke button; nothing happens while it is disabled)."""
        facts, reason = self._facts, self._reason
        if facts is None or reason is None or not self.form.accept_enabled:
            return
        note, version, notify = self._note, facts.preview.version, self.notify_patient
        self._view.show_problem("")
        self._writes.run(
            "Revoking the account",
            lambda: self._desk.act(
                revoke_access,
                self._account_id,
                reason=reason,
                note=note,
                notify_patient=notify,
                expected_version=version,
            ),
            self._revoked,
            self._revoke_refused,
        )
        self._view.show_form(self.form)

    def close(self) -> None:
        """The dialog is closing: deliver nothing more to it."""
        self._reads.cancel()
        self._writes.cancel()

    # --- answers --------------------------------------------------------------------------

    def _read_facts(self, account_id: int) -> RevokeFacts:
        """On the worker: the preview, with the other accounts' usernames."""
        preview = self._desk.act(revoke_preview, account_id)
        return RevokeFacts(preview, preview.other_usernames)

    def _show_facts(self, facts: RevokeFacts) -> None:
        if self._facts is not None and not self._facts.same_as(facts) and self._confirmed:
            self._confirmed = False
            self._view.show_problem(CHANGED_SINCE)
        self._facts = facts
        self._view.show_facts(facts.left_behind, facts.sharing)
        self._view.show_form(self.form)

    def _preview_refused(self, error: DomainError) -> None:
        self._facts = None
        self._view.show_facts(UNKNOWN, UNKNOWN)
        self._view.show_problem(error.message)
        self._view.show_form(self.form)

    def _revoked(self, changes: Changes) -> None:
        self._done = True
        self._view.show_form(self.form)
        self._view.account_revoked(changes)

    def _revoke_refused(self, error: DomainError) -> None:
        self._view.show_problem(error.message)
        if isinstance(error, StaleRecord):
            self._view.record_changed()
            self.load()  # the new version; reason, note and confirmation stay
        self._view.show_form(self.form)

    def _still_needed(self) -> str:
        if self._reason is None:
            return CHOOSE_REASON
        note = self._note.strip()
        if self._reason is RevokeReason.OTHER and not note:
            return WRITE_NOTE
        if len(note) > MAX_NOTE_LENGTH:
            return f"Shorten the note to at most {MAX_NOTE_LENGTH} characters (it has {len(note)})."
        if not self._confirmed:
            return TICK_CONFIRMATION
        return ""


__all__ = [
    "CHANGED_SINCE",
    "CHOOSE_REASON",
    "READING",
    "REASON_CHOICES",
    "TICK_CONFIRMATION",
    "UNKNOWN",
    "WRITE_NOTE",
    "RevokeFacts",
    "RevokeForm",
    "RevokePresenter",
    "RevokeView",
    "left_behind_text",
]
