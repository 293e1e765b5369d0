"""What the staff users dialog decides, without Qt: which actions the selected user
allows, what each change sends to the services, and which message goes where.

``StaffPresenter`` lists the staff users and makes each change on a worker
(``ServiceCalls``), then reloads the list. It tells its view (``StaffView``: the dialog, or a
test's stand-in) what to show; a refusal goes to the form the change was asked from, so
nothing typed there is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from console.adapters.role_labels import ROLE_LABELS
from console.models.staff_list import StaffMember
from console.models.states import StaffRole
from console.services.desk import StaffDesk
from console.services.errors import DomainError
from console.services.permissions import Permission, refusal
from console.services.staff.admin import (
    change_role,
    disable_staff,
    enable_staff,
    list_staff,
    new_temporary_password,
    reset_staff_password,
)
from console.services.staff.users import add_staff_user
from console.services.workstation import Changes
from console.workers.service_calls import ServiceCalls, Submitter

NOTHING_SELECTED = "Select a staff user in the list first."
PASSWORDS_DIFFER = "The two passwords are different; type the same password in both."


class StaffView(Protocol):
    """What the presenter tells the dialog."""

    def show_staff(self, members: Sequence[StaffMember]) -> None:
        """Show ``members`` in the table."""
        ...

    def show_message(self, text: str, *, problem: bool) -> None:
        """Say something under the table (``problem``: in red)."""
        ...

    def show_refusal(self, text: str) -> None:
        """A change was refused: say why where it was asked for (the open form)."""
        ...

    def change_made(self, text: str, changes: Changes) -> None:
        """A change succeeded: close its form and say what was done."""
        ...

    def password_reset(self, text: str, changes: Changes) -> None:
        """A password was reset: keep the temporary password on screen, with ``text``."""
        ...

    def select_staff(self, staff_id: int) -> None:
        """Select the staff user ``staff_id`` once the table shows them."""
        ...

    def set_busy(self, busy: bool) -> None:
        """Whether a change is under way (no other can start meanwhile)."""
        ...


@dataclass(frozen=True)
class StaffActions:
    """What may be done to the selected staff user: each action's refusal, None when it
    is allowed, and the label of the disable/enable button."""

    toggle_label: str
    toggle: str | None
    change_role: str | None
    reset_password: str | None


def role_label(role: str) -> str:
    """A role as the clinic says it."""
    return ROLE_LABELS.get(role, role)


class StaffPresenter:
    """Lists the staff users and makes each change on a worker, reloading after it."""

    def __init__(self, desk: StaffDesk, runner: Submitter, view: StaffView) -> None:
        self._desk = desk
        self._view = view
        self._reads = ServiceCalls(runner)
        self._changes = ServiceCalls(runner)
        self._read_serial = 0

    @property
    def refusal(self) -> str | None:
        """Why this user may not manage staff; None when they may."""
        return refusal(self._desk.actor.role, Permission.MANAGE_STAFF)

    @property
    def busy(self) -> bool:
        """Whether a change is under way."""
        return self._changes.busy

    def load(self) -> None:
        """List the staff users on a worker and show them (the newest listing wins)."""
        reason = self.refusal
        if reason is not None:
            self._view.show_message(reason, problem=True)
            return
        self._read_serial += 1
        serial = self._read_serial
        self._reads.run(
            "Listing the staff users",
            lambda: self._desk.act(list_staff),
            lambda members: self._show_listing(serial, members),
            lambda error: self._view.show_message(error.message, problem=True),
        )

    def actions(self, member: StaffMember | None) -> StaffActions:
        """What the buttons allow for ``member`` (the selected user, or None)."""
        if member is None:
            return StaffActions("Disable", NOTHING_SELECTED, NOTHING_SELECTED, NOTHING_SELECTED)
        label = "Enable" if member.disabled else "Disable"
        if member.id != self._desk.actor.id:
            return StaffActions(label, None, None, None)
        return StaffActions(
            label,
            "You cannot disable your own staff account; ask another administrator.",
            "You cannot change your own role; ask another administrator.",
            "Change your own password with 'Change my password', which asks for the current one.",
        )

    def temporary_password(self, member: StaffMember) -> str:
        """A new temporary password for ``member`` to offer in the reset form."""
        return new_temporary_password(member.username, self._desk.rules.staff_password_length)

    def add(
        self, username: str, display_name: str, role: StaffRole, password: str, repeated: str
    ) -> None:
        """Add a staff user (the add form's button)."""
        if password != repeated:
            self._view.show_refusal(PASSWORDS_DIFFER)
            return
        name = username.strip()
        self._change(
            "Adding the staff user",
            lambda: self._desk.act(
                add_staff_user,
                name,
                role,
                password,
                display_name=display_name.strip() or None,
            ),
            lambda changes: self._added(name, role, changes),
        )

    def toggle_disabled(self, member: StaffMember) -> None:
        """Disable ``member``, or enable them again when they are disabled."""
        version = member.version
        if member.disabled:
            self._change(
                "Enabling the staff user",
                lambda: self._desk.act(enable_staff, member.id, expected_version=version),
                lambda changes: self._view.change_made(
                    f"{member.username} is enabled and can sign in again.", changes
                ),
            )
        else:
            self._change(
                "Disabling the staff user",
                lambda: self._desk.act(disable_staff, member.id, expected_version=version),
                lambda changes: self._view.change_made(
                    f"{member.username} is disabled and can no longer sign in.", changes
                ),
            )

    def change_role(self, member: StaffMember, role: StaffRole) -> None:
        """Give ``member`` the role ``role`` (the change-role form's button)."""
        self._change(
            "Changing the role",
            lambda: self._desk.act(change_role, member.id, role, expected_version=member.version),
            lambda changes: self._view.change_made(
                f"{member.username} is now {role_label(role.value)}.", changes
            ),
        )

    def reset_password(self, member: StaffMember, temporary: str) -> None:
        """Give ``member`` the temporary password ``temporary`` (the reset form's button)."""
        self._change(
            "Resetting the password",
            lambda: self._desk.act(
                reset_staff_password,
                member.id,
                temporary,
                expected_version=member.version,
            ),
            lambda changes: self._view.password_reset(
                f"Done. Tell {member.username} this temporary password now: it is not shown "
                "again. They must choose a new one when they next sign in.",
                changes,
            ),
        )

    def close(self) -> None:
        """The dialog is closing: deliver nothing more to it."""
        self._reads.cancel()
        self._changes.cancel()

    # --- answers --------------------------------------------------------------------------

    def _change(
        self, what: str, work: Callable[[], Changes], on_done: Callable[[Changes], None]
    ) -> None:
        reason = self.refusal
        if reason is not None:
            self._view.show_refusal(reason)
            return
        if self._changes.busy:
            return
        self._view.set_busy(True)

        def done(changes: Changes) -> None:
            self._view.set_busy(False)
            on_done(changes)
            self.load()

        def refused(error: DomainError) -> None:
            self._view.set_busy(False)
            self._view.show_refusal(error.message)
            self.load()  # a refusal may come from a change made elsewhere: show it

        self._changes.run(what, work, done, refused)

    def _added(self, username: str, role: StaffRole, changes: Changes) -> None:
        self._view.change_made(f"Added {username} ({role_label(role.value)}).", changes)
        for staff_id in changes.staff:
            self._view.select_staff(staff_id)

    def _show_listing(self, serial: int, members: list[StaffMember]) -> None:
        if serial == self._read_serial:
            self._view.show_staff(members)


__all__ = [
    "NOTHING_SELECTED",
    "PASSWORDS_DIFFER",
    "StaffActions",
    "StaffPresenter",
    "StaffView",
    "role_label",
]
