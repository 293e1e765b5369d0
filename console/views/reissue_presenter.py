"""What the re-issue invitation dialog decides, without Qt: the verdict on the address as it
is typed, when Issue may be pressed, and what the PIN page shows (SPEC §5).

``ReissuePresenter`` checks the address on a worker (``check_invitation_address``), keeping
only the answer to the newest text, issues the invitation on a worker
(``reissue_invitation``) and, once issued, holds the PIN until the dialog closes: it is
shown once, copied or written to a handout on request, and then forgotten.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from console.services.desk import StaffDesk
from console.services.errors import DomainError, EmailTaken, InvalidEmail
from console.services.invitations.issuing import (
    IssuedInvitation,
    check_invitation_address,
    reissue_invitation,
)
from console.services.permissions import Permission, refusal
from console.services.workstation import MAX_INVITATION_DAYS, Changes
from console.views.address_verdict import (
    ISSUABLE,
    AddressState,
    AddressVerdict,
    refused_verdict,
    verdict_for,
)
from console.views.form_presenter import FormState
from console.views.handout_text import (
    HandoutText,
    expiry_words,
    password_rule_words,
    spaced_pin,
)
from console.workers.service_calls import ServiceCalls, Submitter

NOT_CHECKED_YET = "Wait until the address has been checked."
TYPE_ADDRESS = "Type the patient's own address."
CHECKING = "Checking the address…"
ISSUING = "Issuing the invitation…"
FREE_ADDRESS_NEEDED = "Type an address no account or invitation uses."


@dataclass(frozen=True)
class PinPage:
    """What the PIN page shows, once."""

    pin: str
    address: str
    expires: str
    carried_links: str
    warning: str


class ReissueView(Protocol):
    """What the presenter tells the dialog."""

    def show_address(self, verdict: AddressVerdict) -> None:
        """Show the verdict on the address next to the field."""
        ...

    def show_refusal(self, text: str) -> None:
        """Issuing was refused: say why above the buttons."""
        ...

    def show_form(self, form: FormState) -> None:
        """What can be changed and pressed now, and what is still needed."""
        ...

    def show_pin(self, page: PinPage) -> None:
        """Switch to the PIN page."""
        ...

    def invitation_issued(self, changes: Changes) -> None:
        """The invitation exists: tell the other views."""
        ...

    def open_document(self, path: Path) -> None:
        """Open the written handout with the system's viewer."""
        ...

    def show_handout_problem(self, text: str) -> None:
        """The handout could not be written."""
        ...


#: ``write_handout``'s shape (console.views.handout), injected so tests may pass a fake.
HandoutWriter = Callable[..., Path]


class ReissuePresenter:
    """Checks the address as it is typed and issues the invitation, both on a worker."""

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        view: ReissueView,
        patient_id: int,
        *,
        patient_name: str,
        write_handout: HandoutWriter,
        clinic_name: str = "",
        portal_url: str = "",
        clinic_phone: str = "",
        expected_version: int | None = None,
    ) -> None:
        self._desk = desk
        self._view = view
        self._patient_id = patient_id
        self._patient_name = patient_name
        self._write_handout = write_handout
        self._clinic_name = clinic_name
        self._portal_url = portal_url
        self._clinic_phone = clinic_phone
        self._expected_version = expected_version
        self._checks = ServiceCalls(runner)
        self._issuing = ServiceCalls(runner)
        self._serial = 0
        self._verdict = AddressVerdict(AddressState.EMPTY, "")
        self._checked_text: str | None = None
        self._text = ""
        self._issued: IssuedInvitation | None = None

    @property
    def refusal(self) -> str | None:
        """Why this user may not re-issue invitations; None when they may."""
        return refusal(self._desk.actor.role, Permission.REISSUE_INVITATION)

    @property
    def default_days(self) -> int:
        """The clinic's invitation expiry, in days."""
        return self._desk.rules.invitation_days

    @property
    def max_days(self) -> int:
        """The longest expiry allowed."""
        return MAX_INVITATION_DAYS

    @property
    def busy(self) -> bool:
        """Whether the invitation is being issued."""
        return self._issuing.busy

    @property
    def verdict(self) -> AddressVerdict:
        """The verdict on the newest text checked."""
        return self._verdict

    @property
    def pin(self) -> str | None:
        """The issued PIN until the dialog forgets it."""
        return self._issued.pin if self._issued else None

    def expiry_date(self, days: int) -> dt.date:
        """The day an invitation issued now for ``days`` days expires (local time)."""
        return (self._desk.clock.now() + dt.timedelta(days=days)).astimezone().date()

    def form(self, *, issuing: bool | None = None) -> FormState:
        """What the dialog allows now (``issuing``: as the invitation is sent off): Issue
        waits for the newest text to be checked and found free (or only a likely variant);
        nothing changes while issuing or after."""
        busy = self.busy if issuing is None else issuing
        return FormState.decide(
            loaded=self._issued is None,
            loading=self._verdict.state is AddressState.CHECKING,
            busy=busy,
            still_needed=ISSUING if busy else self._still_needed(),
        )

    def address_edited(self, text: str) -> None:
        """The field changed: nothing can be issued until the new text is checked."""
        self._serial += 1
        self._checked_text = None
        self._text = text
        if not text.strip():
            self._show(AddressVerdict(AddressState.EMPTY, TYPE_ADDRESS))
        else:
            self._show(AddressVerdict(AddressState.CHECKING, "Checking…"))

    def check_address(self, text: str) -> None:
        """Check ``text`` on a worker (the dialog calls this once typing pauses); an answer
        about older text is dropped."""
        self._serial += 1
        serial = self._serial
        self._checked_text = None
        self._text = text
        if not text.strip():
            self._show(AddressVerdict(AddressState.EMPTY, TYPE_ADDRESS))
            return
        self._show(AddressVerdict(AddressState.CHECKING, "Checking…"))
        self._checks.run(
            "Checking the address",
            lambda: self._desk.act(check_invitation_address, self._patient_id, text),
            lambda address: self._checked(serial, text, verdict_for(address)),
            lambda error: self._checked(serial, text, refused_verdict(error)),
        )

    def can_issue(self, text: str) -> bool:
        """Whether Issue may be pressed for ``text``: checked, free or only a warning."""
        return (
            not self.busy
            and self._issued is None
            and self._checked_text == text
            and self._verdict.state in ISSUABLE
        )

    def issue(self, text: str, days: int) -> None:
        """Issue the invitation to ``text`` valid for ``days`` days."""
        if self.busy or self._issued is not None:
            return
        if not self.can_issue(text):
            self._view.show_refusal(self._verdict.detail or self._verdict.words or NOT_CHECKED_YET)
            return
        self._view.show_form(self.form(issuing=True))
        self._issuing.run(
            "Issuing the invitation",
            lambda: self._desk.act(
                reissue_invitation,
                self._patient_id,
                text,
                expires_days=days,
                expected_version=self._expected_version,
            ),
            self._done,
            lambda error: self._refused(text, error),
        )

    def handout(self) -> HandoutText | None:
        """What the handout says; None once the PIN is forgotten."""
        issued = self._issued
        if issued is None:
            return None
        policy = self._desk.rules.login.passwords
        return HandoutText(
            clinic_name=self._clinic_name,
            portal_name=self._desk.rules.portal_name,
            patient_name=self._patient_name,
            pin=issued.pin,
            expires_at=issued.expires_at,
            portal_url=self._portal_url,
            address=issued.address,
            password_rule=password_rule_words(policy.min_length, policy.require_symbol),
            clinic_phone=self._clinic_phone,
        )

    def save_handout(self, path: str) -> None:
        """Write the handout PDF to ``path`` (chosen by the person), then open it."""
        text = self.handout()
        if text is None or not path:
            return
        try:
            written = self._write_handout(path, **dataclasses.asdict(text))
        except OSError as error:
            self._view.show_handout_problem(
                f"The handout could not be saved there ({error.strerror or error}). "
                "Choose another folder."
            )
            return
        self._view.open_document(written)

    def forget_pin(self) -> None:
        """The dialog is closing: the PIN exists nowhere any more."""
        self._issued = None

    def close(self) -> None:
        """The dialog is closing: forget the PIN and deliver nothing more to it."""
        self.forget_pin()
        self._checks.cancel()
        self._issuing.cancel()

    # --- answers --------------------------------------------------------------------------

    def _show(self, verdict: AddressVerdict) -> None:
        self._verdict = verdict
        self._view.show_address(verdict)
        self._view.show_form(self.form())

    def _still_needed(self) -> str:
        if self._issued is not None:
            return ""
        state = self._verdict.state
        if state is AddressState.EMPTY:
            return TYPE_ADDRESS
        if state is AddressState.CHECKING:
            return CHECKING
        if self._checked_text != self._text:
            return NOT_CHECKED_YET
        return "" if state in ISSUABLE else FREE_ADDRESS_NEEDED

    def _checked(self, serial: int, text: str, verdict: AddressVerdict) -> None:
        if serial != self._serial:
            return  # the field changed since: a newer check is on its way
        self._checked_text = text
        self._show(verdict)

    def _done(self, issued: IssuedInvitation) -> None:
        self._issued = issued
        self._view.show_form(self.form())
        links = issued.carried_links
        carried = (
            ""
            if not links
            else (
                f"Accepting restores {links} family link{'s' if links != 1 else ''} "
                "(guardian or proxy) of the revoked account."
            )
        )
        self._view.show_pin(
            PinPage(
                pin=spaced_pin(issued.pin),
                address=issued.address,
                expires=expiry_words(issued.expires_at),
                carried_links=carried,
                warning=issued.warning or "",
            )
        )
        self._view.invitation_issued(issued.changes)

    def _refused(self, text: str, error: DomainError) -> None:
        self._view.show_form(self.form())
        self._view.show_refusal(error.message)
        if isinstance(error, (InvalidEmail, EmailTaken)):
            # Someone took the address meanwhile: the field says so too.
            self._serial += 1
            self._checked_text = text
            self._show(refused_verdict(error))


__all__ = [
    "CHECKING",
    "FREE_ADDRESS_NEEDED",
    "ISSUING",
    "NOT_CHECKED_YET",
    "TYPE_ADDRESS",
    "HandoutWriter",
    "PinPage",
    "ReissuePresenter",
    "ReissueView",
]
