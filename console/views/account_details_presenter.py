"""What the account details panel says, without Qt: the banner (what the patient sees, why,
and what fixes it), the chart and account fields, the charts the account can see, the
chart's invitations and the account's history, each in the front desk's words; and whether
an action's ``Changes`` concern the account shown. ``AccountDetailsPanel`` lays it out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from console.adapters.local_time import when as local_time
from console.services.accounts.details import AccountDetails
from console.services.accounts.patient_view import LoginSituation
from console.services.workstation import Changes
from console.views.list_presenter import count_text

EMPTY_TEXT = "Select an account to see its details"
LOADING_TEXT = "Opening the account…"

#: The banner's tag and tone for each situation: the words carry the meaning, the colour helps.
SITUATION_TAGS: dict[LoginSituation, tuple[str, str]] = {
    LoginSituation.SIGNED_IN: ("✓  Signs in", "ok"),
    LoginSituation.SHARED_EMAIL: ("!  Shared e-mail", "warn"),
    LoginSituation.RESET_SENT: ("!  Reset needed", "warn"),
    LoginSituation.RESET_RECENTLY_SENT: ("!  Reset needed", "warn"),
    LoginSituation.LOCKED: ("!  Locked", "warn"),
    LoginSituation.LOCKED_OUT: ("!  Locked", "warn"),
    LoginSituation.REVOKED: ("✕  Revoked", "stop"),
    LoginSituation.DEACTIVATED: ("✕  Deactivated", "stop"),
    LoginSituation.NO_RESET_ADDRESS: ("✕  No usable e-mail", "stop"),
}

STATES = {
    "legacy": "Legacy — not reset yet",
    "reset_pending": "Reset e-mail sent",
    "migrated": "Migrated",
    "revoked": "Revoked",
    "deactivated": "Deactivated",
}

ACTIONS = {
    "revoke_access": "Access revoked",
    "reissue_invitation": "Invitation sent",
    "cancel_invitation": "Invitation cancelled",
    "accept_invitation": "Invitation accepted",
    "resend_reset": "Reset e-mail resent",
    "deactivate_account": "Account deactivated",
    "link_chart": "Chart linked",
    "edit_contact": "Contact details edited",
}

CHART_FIELDS = ("MRN", "Born", "Contact e-mail", "Mobile phone")
ACCOUNT_FIELDS = (
    "Username",
    "Login e-mail",
    "State",
    "Shared e-mail",
    "Last login",
    "Failed logins",
    "Locked until",
    "Holds",
)


@dataclass(frozen=True)
class ListRow:
    """One row of a list section: a short tag, a line of text, a muted line under it."""

    pill: str
    text: str
    detail: str
    tone: str = ""


@dataclass(frozen=True)
class ListSection:
    """A list section's rows, or the note that says it is empty."""

    rows: tuple[ListRow, ...]
    empty_note: str

    @property
    def note(self) -> str:
        """The note to show: only when there are no rows."""
        return "" if self.rows else self.empty_note


@dataclass(frozen=True)
class DetailsPage:
    """Everything the panel shows for one account."""

    name: str
    subtitle: str
    tag: str
    tone: str
    message: str
    explanation: str
    fix: str
    chart: dict[str, str]
    account: dict[str, str]
    can_see: ListSection
    invitations: ListSection
    history: ListSection


def details_page(details: AccountDetails) -> DetailsPage:
    """What the panel shows for ``details``."""
    chart, account, view = details.chart, details.account, details.patient_view
    tag, tone = SITUATION_TAGS.get(view.situation, ("!  " + view.situation, "warn"))
    others = ", ".join(account.shares_email_with)
    return DetailsPage(
        name=chart.full_name,
        subtitle=f"MRN {chart.mrn}  ·  {account.username}",
        tag=tag,
        tone=tone,
        message=view.message if view.signed_in else f"“{view.message}”",
        explanation=view.explanation,
        fix=view.suggested_fix or "",
        chart={
            "MRN": chart.mrn,
            "Born": f"{chart.birth_date:%d %b %Y}  (age {chart.age})",
            "Contact e-mail": chart.contact_email or "—",
            "Mobile phone": chart.mobile_phone or "—",
        },
        account={
            "Username": account.username,
            "Login e-mail": account.login_email or "— none —",
            "State": STATES.get(account.state, account.state),
            "Shared e-mail": f"Yes — also used by {others}" if account.shared_email else "No",
            "Last login": when(account.last_login_at, "Never"),
            "Failed logins": str(account.failed_logins),
            "Locked until": when(account.locked_until, "Not locked"),
            "Holds": f"{count_text(account.message_count, 'message', 'messages')}  ·  "
            f"{count_text(account.intake_form_count, 'intake form', 'intake forms')}",
        },
        can_see=_can_see(details),
        invitations=_invitations(details),
        history=_history(details),
    )


def reload_needed(
    changes: Changes, account_id: int | None, details: AccountDetails | None, loading: bool
) -> bool:
    """Whether ``changes`` concern the account shown: it, or its chart (an account being
    opened, whose chart is not known yet, is read again too), or records changed by the
    thousand (``bulk``: an import may have changed either)."""
    if account_id is None:
        return False
    if changes.bulk or account_id in changes.accounts:
        return True
    return details.chart.patient_id in changes.patients if details else loading


def when(moment: dt.datetime | None, never: str = "—") -> str:
    """A moment as every page says it (``local_time.when``), or ``never``."""
    return never if moment is None else local_time(moment)


def _can_see(details: AccountDetails) -> ListSection:
    rows = []
    for seen in details.can_see:
        detail = f"MRN {seen.mrn}  ·  age {seen.age}"
        if seen.needs_review:
            detail += "  ·  needs review (adult)"
        if seen.ended:
            detail += "  ·  access ended"
        tone = "muted" if seen.ended else ""
        rows.append(ListRow(seen.relation.capitalize(), seen.full_name, detail, tone))
    return ListSection(tuple(rows), "No charts — this account sees nothing in the portal.")


def _invitations(details: AccountDetails) -> ListSection:
    rows = []
    for invitation in details.invitations:
        state = "expired" if invitation.lapsed else invitation.state
        rows.append(
            ListRow(
                state.capitalize(),
                invitation.target_email,
                f"Sent {when(invitation.created_at)}  ·  expires {when(invitation.expires_at)}",
                "" if state == "pending" else "muted",
            )
        )
    return ListSection(tuple(rows), "No invitations sent from this chart.")


def _history(details: AccountDetails) -> ListSection:
    rows = []
    for event in details.history:
        action = ACTIONS.get(event.action, event.action.replace("_", " ").capitalize())
        if event.outcome != "ok":
            action += f" ({event.outcome})"
        by = event.staff_username or "system"
        about = "chart" if event.target_type == "patient" else "account"
        rows.append(ListRow("", action, f"{when(event.occurred_at)}  ·  {by}  ·  {about}"))
    return ListSection(tuple(rows), "Nothing recorded yet.")


__all__ = [
    "ACCOUNT_FIELDS",
    "CHART_FIELDS",
    "EMPTY_TEXT",
    "LOADING_TEXT",
    "DetailsPage",
    "ListRow",
    "ListSection",
    "details_page",
    "reload_needed",
    "when",
]
