"""What the small account dialogs decide, without Qt: Resend reset e-mail, Deactivate…, and
Edit contact… (SPEC §5, Other actions).

Each presenter reads what its dialog shows on a worker (the account, or the chart's contact
details, with the version it is at), sends one service call against that version, and tells
its view (``FormView``: the dialog, or a test's stand-in) what to show. A refusal is shown in
the dialog — next to the field it concerns where there is one; a record changed elsewhere is
said plainly, read again, and nothing typed is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from console.services.accounts.actions import MAX_NOTE_LENGTH, deactivate_account, resend_reset
from console.services.accounts.chart_actions import edit_contact
from console.services.accounts.details import account_details
from console.services.accounts.lookup import ContactFacts, chart_contact
from console.services.desk import StaffDesk
from console.services.errors import DomainError, InvalidEmail, StaleRecord
from console.services.workstation import Changes
from console.views.form_presenter import FormState
from console.workers.service_calls import ServiceCalls, Submitter

READING = "Reading…"
TICK_DEACTIVATION = "Tick the box once the patient has asked for this."
#: Which field a refusal is about ("" for the whole form).
EMAIL_FIELD = "contact_email"
PHONE_FIELD = "mobile_phone"


@dataclass(frozen=True)
class AccountFacts:
    """What the resend and deactivate dialogs show about the account."""

    username: str
    login_email: str | None
    state: str
    version: int


class FormView(Protocol):
    """What a presenter tells its dialog."""

    def show_facts(self, facts: AccountFacts | ContactFacts) -> None:
        """Show the record as read (again, after it changed elsewhere)."""
        ...

    def show_form(self, form: FormState) -> None:
        """Enable and explain the controls as ``form`` says."""
        ...

    def show_problem(self, text: str, field: str = "") -> None:
        """Show why something was refused, next to ``field`` ("" text clears them all)."""
        ...

    def action_done(self, changes: Changes) -> None:
        """The action is done: hand ``changes`` on and close."""
        ...

    def record_changed(self) -> None:
        """The record changed elsewhere: whatever shows it should read it again."""
        ...


class _OneAction:
    """Reads the record, then takes one action against the version read."""

    what_read = "Reading the account"
    what_done = "Saving"

    def __init__(self, desk: StaffDesk, runner: Submitter, view: FormView) -> None:
        self._desk = desk
        self._reads = ServiceCalls(runner)
        self._writes = ServiceCalls(runner)
        self._version: int | None = None
        self._done = False
        self._view = view

    @property
    def busy(self) -> bool:
        """Whether the action is under way."""
        return self._writes.busy

    @property
    def form(self) -> FormState:
        """What the controls allow now."""
        loaded = self._version is not None and not self._done
        needed = self._still_needed()
        return FormState.decide(
            loaded=loaded, loading=self._reads.busy, busy=self.busy, still_needed=needed
        )

    def load(self) -> None:
        """Read what the dialog shows, on a worker."""
        self._reads.cancel()
        self._reads.run(self.what_read, self._read, self._loaded, self._read_refused)
        self._show_form()

    def close(self) -> None:
        """The dialog is closing: deliver nothing more to it."""
        self._reads.cancel()
        self._writes.cancel()

    # --- for the actions --------------------------------------------------------------------

    def _read(self) -> AccountFacts | ContactFacts:
        raise NotImplementedError

    def _facts_read(self, facts: object) -> int:
        """Keep ``facts``; return their version."""
        raise NotImplementedError

    def _still_needed(self) -> str:
        return ""

    def _field_of(self, error: DomainError) -> str:
        return ""

    def _act(self, work: Callable[[], Changes]) -> None:
        if not self.form.accept_enabled:
            return
        self._problem("")
        self._writes.run(self.what_done, work, self._acted, self._refused)
        self._show_form()

    # --- answers ----------------------------------------------------------------------------

    def _loaded(self, facts: AccountFacts | ContactFacts) -> None:
        self._version = self._facts_read(facts)
        self._view.show_facts(facts)
        self._show_form()

    def _read_refused(self, error: DomainError) -> None:
        self._version = None
        self._problem(error.message)
        self._show_form()

    def _acted(self, changes: Changes) -> None:
        self._done = True
        self._show_form()
        self._view.action_done(changes)

    def _refused(self, error: DomainError) -> None:
        self._problem(error.message, self._field_of(error))
        if isinstance(error, StaleRecord):
            self._view.record_changed()
            self.load()
        self._show_form()

    def _show_form(self) -> None:
        self._view.show_form(self.form)

    def _problem(self, text: str, field: str = "") -> None:
        self._view.show_problem(text, field)


class _AccountAction(_OneAction):
    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        account_id: int,
        view: FormView,
    ) -> None:
        super().__init__(desk, runner, view)
        self._account_id = account_id
        self.facts: AccountFacts | None = None

    def _read(self) -> AccountFacts:
        account = self._desk.act(account_details, self._account_id).account
        return AccountFacts(account.username, account.login_email, account.state, account.version)

    def _facts_read(self, facts: object) -> int:
        assert isinstance(facts, AccountFacts)
        self.facts = facts
        return facts.version


class ResendResetPresenter(_AccountAction):
    """Sends another password reset e-mail to the account's login address."""

    what_done = "Sending the reset e-mail"

    def send(self) -> None:
        """Queue the reset e-mail (the Send button)."""
        account_id, version = self._account_id, self._version
        self._act(lambda: self._desk.act(resend_reset, account_id, expected_version=version))


class DeactivatePresenter(_AccountAction):
    """Closes the account at the patient's request, once that is confirmed."""

    what_done = "Deactivating the account"

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        account_id: int,
        view: FormView,
    ) -> None:
        super().__init__(desk, runner, account_id, view)
        self._note = ""
        self._confirmed = False

    def write_note(self, text: str) -> None:
        """The note as typed so far."""
        self._note = text
        self._show_form()

    def confirm(self, confirmed: bool) -> None:
        """The "The patient asked to close their portal account" box."""
        self._confirmed = confirmed
        self._show_form()

    def deactivate(self) -> None:
        """Deactivate the account (the Deactivate button)."""
        account_id, note, version = self._account_id, self._note, self._version
        self._act(
            lambda: self._desk.act(
                deactivate_account, account_id, note=note, expected_version=version
            )
        )

    def _still_needed(self) -> str:
        note = self._note.strip()
        if len(note) > MAX_NOTE_LENGTH:
            return f"Shorten the note to at most {MAX_NOTE_LENGTH} characters (it has {len(note)})."
        return "" if self._confirmed else TICK_DEACTIVATION


class EditContactPresenter(_OneAction):
    """Saves a chart's contact e-mail and mobile phone."""

    what_read = "Reading the chart"
    what_done = "Saving the contact details"

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        patient_id: int,
        view: FormView,
    ) -> None:
        super().__init__(desk, runner, view)
        self._patient_id = patient_id
        self.facts: ContactFacts | None = None

    def save(self, contact_email: str, mobile_phone: str) -> None:
        """Save both fields as typed (empty clears one); the service checks them."""
        patient_id, version = self._patient_id, self._version
        self._act(
            lambda: self._desk.act(
                edit_contact,
                patient_id,
                contact_email=contact_email,
                mobile_phone=mobile_phone,
                expected_version=version,
            )
        )

    def _read(self) -> ContactFacts:
        return self._desk.act(chart_contact, self._patient_id)

    def _facts_read(self, facts: object) -> int:
        assert isinstance(facts, ContactFacts)
        self.facts = facts
        return facts.version

    def _field_of(self, error: DomainError) -> str:
        if isinstance(error, InvalidEmail):
            return EMAIL_FIELD
        # edit_contact checks the e-mail first, then the phone; its phone message names it.
        if "mobile phone" in error.message:
            return PHONE_FIELD
        return ""


__all__ = [
    "EMAIL_FIELD",
    "PHONE_FIELD",
    "READING",
    "TICK_DEACTIVATION",
    "AccountFacts",
    "DeactivatePresenter",
    "EditContactPresenter",
    "FormState",
    "FormView",
    "ResendResetPresenter",
]
