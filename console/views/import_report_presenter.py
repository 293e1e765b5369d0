"""What the import wizard's preview and report pages say, without Qt: every figure in the
clinic's words, what a dry run would do or what an import did in one paragraph, and the
report's first lines as rows of text for a table (the report file has every line).

Whatever the file's kind, a record is what the clinic calls it in that file: a "row" of a
spreadsheet, an "entry" of a FHIR bundle (``Export.unit``).
"""

from __future__ import annotations

from dataclasses import dataclass

from console.services.imports.plan import Kind, ReportLine
from console.services.imports.run import EXAMPLES_PER_KIND, ImportReport
from console.views.list_presenter import count_text

#: The table's columns, as the report file has them.
LINE_HEADERS = ("Row", "What", "MRN", "Username", "Detail")

#: Each figure's caption; ``{Units}`` is "Rows" or "Entries".
_CAPTIONS = {
    "entries": "{Units} gone through",
    "new_charts": "New charts",
    "updated_charts": "Charts updated",
    "unchanged_charts": "Charts already up to date",
    "new_accounts": "New portal accounts",
    "updated_accounts": "Portal accounts updated",
    "unchanged_accounts": "Portal accounts already up to date",
    "rejected": "{Units} rejected",
    "warnings": "Warnings",
    "contact_changed": "Contact e-mail or phone changed",
    "login_email_changed": "Login e-mail changed",
    "status_changed": "Portal status changed",
    "kept": "Kept as the console has it",
    "stale_addresses": "Contact and login e-mail differ",
}

#: Each kind of line as the table's "What" column says it.
KIND_LABELS = {
    Kind.REJECTED: "Rejected",
    Kind.WARNING: "Warning",
    Kind.NEW_CHART: "New chart",
    Kind.CHART_CHANGED: "Name or date of birth changed",
    Kind.CONTACT_CHANGED: "Contact changed",
    Kind.NEW_ACCOUNT: "New account",
    Kind.LOGIN_EMAIL_CHANGED: "Login e-mail changed",
    Kind.STATUS_CHANGED: "Status changed",
    Kind.KEPT: "Kept as the console has it",
    Kind.STALE_ADDRESS: "Contact and login e-mail differ",
}

NOTHING_TO_CHANGE = (
    "Nothing has been written, and importing would change nothing: every chart and account "
    "in the file is in the console as the file has it."
)
FILE_CHANGED = (
    "The file changed after the preview: what was imported may differ from what the preview showed."
)
RESUME_HINT = (
    "Resume to complete it: the file is gone through again from the start, and rows already "
    "written are found up to date and skipped."
)


@dataclass(frozen=True)
class Figure:
    """One figure of a report, as a page shows it."""

    name: str
    caption: str
    value: str


@dataclass(frozen=True)
class KindChoice:
    """A choice of the report page's "Show" list: one kind of line (None: every kind)."""

    kind: Kind | None
    label: str


#: One line of a report as the table shows it (row, what, MRN, username, detail).
LineRow = tuple[str, str, str, str, str]


@dataclass(frozen=True)
class ReportPage:
    """What the preview or the report page shows."""

    #: What the run would do or did, in a few sentences.
    outcome: str
    figures: tuple[Figure, ...]
    #: The table's caption (what its lines are).
    lines_caption: str
    lines: tuple[LineRow, ...]
    #: The report page's "Show" choices (none on the preview page).
    kinds: tuple[KindChoice, ...] = ()


def figures(report: ImportReport, unit: str = "row") -> tuple[Figure, ...]:
    """Every figure of ``report``, captioned, in the report's order."""
    units = _plural(unit).capitalize()
    return tuple(
        Figure(name, _CAPTIONS[name].format(Units=units), f"{count:,}")
        for name, count in report.figures().items()
    )


def line_row(line: ReportLine) -> LineRow:
    """``line`` as the table shows it."""
    return (str(line.row), KIND_LABELS[line.kind], line.mrn, line.username, line.detail)


def _things(report: ImportReport) -> tuple[str, str]:
    counts = report.counts
    added = (
        f"{count_text(counts['new_charts'], 'chart', 'charts')} and "
        f"{count_text(counts['new_accounts'], 'portal account', 'portal accounts')}"
    )
    updated = (
        f"{count_text(counts['updated_charts'], 'chart', 'charts')} and "
        f"{count_text(counts['updated_accounts'], 'account', 'accounts')}"
    )
    return added, updated


def _plural(unit: str) -> str:
    return "entries" if unit == "entry" else f"{unit}s"


def _units(n: int, unit: str) -> str:
    return count_text(n, unit, _plural(unit))


def preview_page(report: ImportReport, unit: str = "row") -> ReportPage:
    """The preview page for a dry run's ``report``: what importing would do, and its first
    rejected rows and warnings."""
    if not report.changed_anything:
        outcome = NOTHING_TO_CHANGE
    else:
        added, updated = _things(report)
        outcome = (
            f"Nothing has been written yet. Importing would add {added}, and update {updated}."
        )
    rejected = report.counts["rejected"]
    if rejected:
        outcome += f" {_units(rejected, unit).capitalize()} would be left out (rejected)."
    shown = [*report.first(Kind.REJECTED), *report.first(Kind.WARNING)]
    if shown:
        caption = (
            f"First rejected {_plural(unit)} and warnings (up to {EXAMPLES_PER_KIND} of "
            "each; save the preview for every line)"
        )
    else:
        caption = f"No {unit} is rejected and there is no warning."
    return ReportPage(outcome, figures(report, unit), caption, tuple(map(line_row, shown)))


def report_page(
    report: ImportReport, unit: str = "row", *, total: int | None = None, previewed: str = ""
) -> ReportPage:
    """The report page for an import's ``report``: what it did, how far it went (of
    ``total`` entries, the dry run's count), and its first lines by kind. ``previewed`` is
    the SHA-256 of the file the preview read, to say when the file changed since."""
    went = report.counts["entries"]
    added, updated = _things(report)
    if report.finished:
        outcome = (
            f"Import finished: {_units(went, unit)} gone through; {added} added, {updated} updated."
        )
    else:
        how_far = (
            f"{went:,} of {total:,} {_plural(unit)}"
            if total is not None and total >= went
            else _units(went, unit)
        )
        outcome = (
            f"Import stopped after {how_far}: "
            f"those were written in whole batches ({added} added, {updated} updated), "
            f"nothing of the rest. {RESUME_HINT}"
        )
    rejected = report.counts["rejected"]
    if rejected:
        outcome += f" {_units(rejected, unit).capitalize()} rejected."
    if previewed and previewed != report.sha256:
        outcome += f" {FILE_CHANGED}"
    caption = (
        f"The first lines of each kind (up to {EXAMPLES_PER_KIND}); the report file has every line."
        if report.examples
        else "The import made no line of report."
    )
    return ReportPage(
        outcome,
        figures(report, unit),
        caption,
        lines_of(report, None),
        kind_choices(report),
    )


def kind_choices(report: ImportReport) -> tuple[KindChoice, ...]:
    """ "Every kind", then each kind the report has lines of, with how many are shown."""
    present = [kind for kind in Kind if report.first(kind)]
    every = KindChoice(None, f"Every kind ({len(report.examples):,})")
    return (
        every,
        *(KindChoice(k, f"{KIND_LABELS[k]} ({len(report.first(k)):,})") for k in present),
    )


def lines_of(report: ImportReport, kind: Kind | None) -> tuple[LineRow, ...]:
    """The report's first lines of ``kind`` (None: of every kind, kind by kind in the
    report's order, rejected rows first), as the table shows them."""
    if kind is not None:
        return tuple(map(line_row, report.first(kind)))
    order = {k: n for n, k in enumerate(Kind)}
    return tuple(map(line_row, sorted(report.examples, key=lambda line: order[line.kind])))


__all__ = [
    "FILE_CHANGED",
    "KIND_LABELS",
    "LINE_HEADERS",
    "NOTHING_TO_CHANGE",
    "RESUME_HINT",
    "Figure",
    "KindChoice",
    "LineRow",
    "ReportPage",
    "figures",
    "kind_choices",
    "line_row",
    "lines_of",
    "preview_page",
    "report_page",
]
