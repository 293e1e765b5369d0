"""Importing a clinic's export, or its dry run (issue 13, points 3 and 4): the same service
for the window, the command line and a benchmark.

The file is read a batch at a time. The dry run plans each batch against the database and
writes nothing but its audit event; the import plans and writes each batch in one
transaction of its own, so that a cancel (between batches) or a crash keeps every batch
before it whole and nothing of the rest. Imports are keyed by MRN and username, so running
the same file again completes what was not written and changes nothing else: that is how an
import is resumed. Each run leaves one audit event with its figures and the file's SHA-256
when it ends; a run that writes also leaves one in the transaction of its first writing
batch, so that an import whose process died part-way is on record for what it wrote.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from console.services.errors import DomainError
from console.services.imports.apply import write_batch
from console.services.imports.files import file_sha256
from console.services.imports.plan import FIGURES, Kind, ReportLine, plan_batch
from console.services.imports.source import Entry, Export
from console.services.permissions import Actor, Permission
from console.services.workstation import Changes, Workstation, writing

#: Entries per batch (and per transaction).
BATCH_ENTRIES = 1_000
#: Lines of each kind a report keeps to show (the report file has them all).
EXAMPLES_PER_KIND = 50

OnLine = Callable[[ReportLine], None]


class ImportInterrupted(DomainError):
    """The import stopped part-way for a reason outside the file; what was written is whole."""


@dataclass
class ImportReport:
    """What an import did (or a dry run would do): its figures, the first lines of each
    kind, and whether it went through to the end of the file."""

    file_name: str
    sha256: str
    format: str
    dry_run: bool
    counts: Counter[str] = field(default_factory=Counter)
    examples: list[ReportLine] = field(default_factory=list)
    finished: bool = False
    changes: Changes = field(default_factory=Changes)

    def figures(self) -> dict[str, int]:
        """Every figure, in the report's order (zeros included)."""
        return {name: self.counts[name] for name in FIGURES}

    def first(self, kind: Kind) -> list[ReportLine]:
        """The report's first lines of ``kind``."""
        return [line for line in self.examples if line.kind is kind]

    @property
    def changed_anything(self) -> bool:
        changes = ("new_charts", "updated_charts", "new_accounts", "updated_accounts")
        return any(self.counts[name] for name in changes)


def import_export(
    workstation: Workstation,
    actor: Actor,
    export: Export,
    *,
    dry_run: bool = False,
    on_line: OnLine | None = None,
    progress: Callable[[int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ImportReport:
    """Import ``export`` (or, with ``dry_run``, only work out what that would do) on behalf
    of ``actor``, who must be a manager or an administrator. ``on_line`` receives every line
    of the report as it is made; ``progress`` the number of entries gone through after each
    batch; ``cancelled`` is asked before each batch and stops the import there."""
    actor.require(Permission.IMPORT_RECORDS)
    report = ImportReport(export.path.name, file_sha256(export.path), export.format.value, dry_run)
    shown: Counter[Kind] = Counter()
    touched: set[str] = set()
    started = False
    for batch in _batches(export.entries()):
        if cancelled is not None and cancelled():
            break
        if dry_run:
            with Session(workstation.database.engine) as session:
                plan = plan_batch(session, batch)
        else:
            try:
                with writing(workstation, actor, Permission.IMPORT_RECORDS) as session:
                    plan = plan_batch(session, batch)
                    if plan.writes_something:
                        touched |= write_batch(session, plan, actor, workstation.clock.now())
                        if not started:
                            _record_start(workstation, session, actor, report)
                started = started or plan.writes_something
            except IntegrityError:
                raise ImportInterrupted(
                    "Another workstation added some of these charts or accounts while the "
                    f"import ran (near {export.unit} {_first_row(batch)}). Everything before "
                    "was imported; run the import again to complete it."
                ) from None
        report.counts.update(plan.counts)
        for line in plan.lines:
            if on_line is not None:
                on_line(line)
            if shown[line.kind] < EXAMPLES_PER_KIND:
                shown[line.kind] += 1
                report.examples.append(line)
        if progress is not None:
            progress(report.counts["entries"])
    else:
        report.finished = True
    if report.changed_anything:
        report.changes = Changes(email_keys=frozenset(touched), bulk=True)
    _record(workstation, actor, report)
    return report


def _first_row(batch: Sequence[Entry]) -> int:
    return batch[0].row


def _batches(entries: Iterator[Entry]) -> Iterator[Sequence[Entry]]:
    while batch := list(islice(entries, BATCH_ENTRIES)):
        yield batch


def _record_start(
    workstation: Workstation, session: Session, actor: Actor, report: ImportReport
) -> None:
    """The run's first write, in its batch's transaction: whatever happens to the process
    after, the audit log says who imported which file, and when it began writing."""
    workstation.audit.record(
        session,
        "records_import_started",
        actor=actor,
        target_type="import_file",
        target_id=report.sha256,
        details={"file": report.file_name, "format": report.format},
    )


def _record(workstation: Workstation, actor: Actor, report: ImportReport) -> None:
    action = "import_previewed" if report.dry_run else "records_imported"
    with writing(workstation, actor, Permission.IMPORT_RECORDS) as session:
        workstation.audit.record(
            session,
            action,
            actor=actor,
            outcome="ok" if report.finished else "cancelled",
            target_type="import_file",
            target_id=report.sha256,
            details={"file": report.file_name, "format": report.format, **report.figures()},
        )


__all__ = ["BATCH_ENTRIES", "ImportInterrupted", "ImportReport", "import_export"]
