"""What the "Link to an account…" dialog decides, without Qt: which accounts match what was
typed, which one is chosen and as what, whether the chart's person is an adult, and where
each answer goes.

``find_family_accounts`` is the search (a plain function over the account list, run on a
worker). ``LinkPresenter`` keeps what the person typed and chose, sends ``link_chart`` with
the version the search read, and tells its view (``LinkView``: the dialog, or a test's
stand-in) what to show. A record changed elsewhere meanwhile is said plainly, the search is
run again for the new version, and the choice stays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from console.models.ages import ADULT_AGE, age_on
from console.models.states import AccessRelation
from console.services.accounts.chart_actions import LinkedChart, link_chart
from console.services.accounts.lookup import RESULT_LIMIT, AccountChoice, find_family_accounts
from console.services.desk import StaffDesk
from console.services.errors import DomainError, StaleRecord
from console.views.form_presenter import FormState
from console.workers.service_calls import ServiceCalls, Submitter

#: At most this many accounts are offered for one search.
#: The relations a chart can be linked as, in the order the dialog offers them.
RELATION_CHOICES: tuple[AccessRelation, ...] = (AccessRelation.GUARDIAN, AccessRelation.PROXY)
RELATION_LABELS = {
    AccessRelation.GUARDIAN: "Guardian (parent or legal guardian)",
    AccessRelation.PROXY: "Proxy (someone the patient authorised)",
}

TYPE_TO_SEARCH = "Type a username, name, login e-mail or MRN to find the account."
SEARCHING = "Searching…"
NOTHING_FOUND = "No active account matches; check the spelling, or search by MRN."
CHOOSE_ACCOUNT = "Choose the account that should see this chart."
LINKING = "Linking the chart…"


def adult_warning(birth_date: dt.date, today: dt.date) -> str:
    """The warning shown before linking the chart of someone aged 18 or more ("" if younger)."""
    age = age_on(birth_date, today)
    if age < ADULT_AGE:
        return ""
    return (
        f"This patient is {age}: an adult's records are normally theirs alone; the link will "
        "be flagged for review. Link only with the patient's written consent on file."
    )


@dataclass(frozen=True)
class LinkForm(FormState):
    """What the dialog's controls allow and say now: ``busy`` is the link on its way,
    ``accept_enabled`` Link. The chart is known when the dialog opens, so ``loading`` is
    never set; a search under way (``searching``) does not stop Link for the account
    already chosen."""

    #: The search is on its way.
    searching: bool
    #: The link is made: only closing is left.
    linked: bool
    #: What the status line under the list says.
    status: str


class LinkView(Protocol):
    """What the presenter tells the dialog."""

    def show_results(self, choices: tuple[AccountChoice, ...], chosen: int | None) -> None:
        """List ``choices``; select the one with account id ``chosen`` (None: none)."""
        ...

    def show_form(self, form: LinkForm) -> None:
        """Enable and explain the controls as ``form`` says."""
        ...

    def show_problem(self, text: str) -> None:
        """Show why something was refused ("" to clear it)."""
        ...

    def chart_linked(self, linked: LinkedChart) -> None:
        """The chart is linked: hand ``linked.changes`` on; show its review warning."""
        ...

    def record_changed(self) -> None:
        """The account changed elsewhere: whatever shows it should read it again."""
        ...


class LinkPresenter:
    """Searches for the family member's account and links the chart to it, on a worker."""

    def __init__(
        self,
        desk: StaffDesk,
        runner: Submitter,
        patient_id: int,
        view: LinkView,
        *,
        mrn: str,
        birth_date: dt.date,
    ) -> None:
        self._desk = desk
        self._patient_id = patient_id
        self._view = view
        self._mrn = mrn
        self._birth_date = birth_date
        self._searches = ServiceCalls(runner)
        self._writes = ServiceCalls(runner)
        self._text = ""
        self._results: tuple[AccountChoice, ...] = ()
        self._searched = False
        self._chosen: AccountChoice | None = None
        self._relation = AccessRelation.GUARDIAN
        self._linked: LinkedChart | None = None
        self._wanted: int | None = None

    @property
    def busy(self) -> bool:
        """Whether the link is under way."""
        return self._writes.busy

    @property
    def results(self) -> tuple[AccountChoice, ...]:
        """The accounts the last search found."""
        return self._results

    @property
    def chosen(self) -> AccountChoice | None:
        """The account chosen in the list."""
        return self._chosen

    @property
    def relation(self) -> AccessRelation:
        """Guardian or proxy."""
        return self._relation

    @property
    def age_warning(self) -> str:
        """Why linking this chart is unusual ("" for a child's chart)."""
        return adult_warning(self._birth_date, self._desk.clock.now().date())

    @property
    def form(self) -> LinkForm:
        """What the controls allow now."""
        linked = self._linked is not None
        needed = "" if self._chosen is not None else CHOOSE_ACCOUNT
        return LinkForm.decide(
            loaded=not linked,
            loading=False,
            busy=self.busy,
            still_needed=needed,
            searching=self._searches.busy,
            linked=linked,
            status=self._status(),
        )

    def search(self, text: str, *, choose: int | None = None) -> None:
        """Find the accounts matching ``text`` on a worker (the dialog calls this once the
        typing pauses); only the newest search's answer is shown. ``choose``: the account to
        choose when it is found (the worklist's proposed guardian)."""
        self._text = text
        self._wanted = choose
        self._searches.cancel()
        if not text.strip():
            self._results, self._searched = (), False
            self._show_results()
            return
        desk, mrn = self._desk, self._mrn
        self._searches.run(
            "Searching for the account",
            lambda: desk.act(find_family_accounts, text, exclude_mrn=mrn),
            self._found,
            self._search_refused,
        )
        self._view.show_form(self.form)

    def choose(self, account_id: int | None) -> None:
        """The account selected in the list (None: none)."""
        self._chosen = next((c for c in self._results if c.account_id == account_id), None)
        self._view.show_form(self.form)

    def choose_relation(self, relation: AccessRelation) -> None:
        """Guardian or proxy, as chosen."""
        self._relation = relation
        self._view.show_form(self.form)

    def link(self) -> None:
        """Link the chart to the chosen account (the Link button; nothing happens while it
        is disabled)."""
        chosen, relation = self._chosen, self._relation
        if chosen is None or not self.form.accept_enabled:
            return
        self._view.show_problem("")
        self._writes.run(
            "Linking the chart",
            lambda: self._desk.act(
                link_chart,
                self._patient_id,
                chosen.account_id,
                relation,
                expected_version=chosen.version,
            ),
            self._done,
            self._refused,
        )
        self._view.show_form(self.form)

    def close(self) -> None:
        """The dialog is closing: deliver nothing more to it."""
        self._searches.cancel()
        self._writes.cancel()

    # --- answers --------------------------------------------------------------------------

    def _found(self, choices: tuple[AccountChoice, ...]) -> None:
        self._results, self._searched = choices, True
        # The same account stays chosen (or the one asked for), with the version just read.
        wanted = self._chosen.account_id if self._chosen is not None else self._wanted
        self._chosen = next((c for c in choices if c.account_id == wanted), None)
        self._wanted = None
        self._show_results()

    def _search_refused(self, error: DomainError) -> None:
        self._results, self._searched, self._chosen = (), False, None
        self._view.show_problem(error.message)
        self._show_results()

    def _show_results(self) -> None:
        chosen = self._chosen.account_id if self._chosen is not None else None
        self._view.show_results(self._results, chosen)
        self._view.show_form(self.form)

    def _done(self, linked: LinkedChart) -> None:
        self._linked = linked
        self._view.show_form(self.form)
        self._view.chart_linked(linked)

    def _refused(self, error: DomainError) -> None:
        self._view.show_problem(error.message)
        if isinstance(error, StaleRecord):
            self._view.record_changed()
            self.search(self._text)  # the new version; the choice stays if still there
        self._view.show_form(self.form)

    def _status(self) -> str:
        if self._linked is not None:
            return "Linked."
        if self.busy:
            return LINKING
        if self._searches.busy:
            return SEARCHING
        if not self._searched:
            return TYPE_TO_SEARCH
        if not self._results:
            return NOTHING_FOUND
        found = len(self._results)
        more = " (the first 20: type more to narrow it)" if found >= RESULT_LIMIT else ""
        return f"{found} active account{'s' if found != 1 else ''} found{more}."


__all__ = [
    "CHOOSE_ACCOUNT",
    "NOTHING_FOUND",
    "RELATION_CHOICES",
    "RELATION_LABELS",
    "RESULT_LIMIT",
    "SEARCHING",
    "TYPE_TO_SEARCH",
    "LinkForm",
    "LinkPresenter",
    "LinkView",
    "adult_warning",
]
