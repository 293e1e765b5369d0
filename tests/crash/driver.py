"""The child process of the crash tests: one piece of real work through the real services,
the way the console's own composition root sets them up, until it ends or is killed.
``tests.crash.processes`` runs it in a child process (``run_child``); by hand:

    python -m tests.crash.driver actions --db URL --clock ISO --plan PLAN.json
    python -m tests.crash.driver import  --db URL --clock ISO --file EXPORT.csv
    python -m tests.crash.driver relay   --db URL --clock ISO --smtp URL [--pause-after-sent N]

It opens the database (``open_database``), builds the workstation (``build_workstation``:
the audit key from PORTAL_CONSOLE_AUDIT_KEY, the clinic's default rules) on a clock that
starts at ``--clock``, signs the member of staff in with PORTAL_CONSOLE_STAFF_PASSWORD (as
the command line does), prints ``ready`` and starts. Standard output says how far it got,
one line at a time and flushed, so that the parent knows where its kill landed:

- actions: ``done I`` or ``refused I ErrorClass`` after step I of the plan (a JSON list of
  staff actions, see ``_act``), the clock one second later for each;
- import: ``batch N`` once the batch that brings the entries read to N has committed;
- relay: ``handled N`` after each message. With ``--pause-after-sent N`` the child, once the
  mail server has accepted its Nth message and before the relay can mark it sent, prints
  ``accepted`` and stops itself (SIGSTOP) for the parent to kill: the transport is the
  relay's own injection point (``send_due(workstation, transport, ...)``), so the product
  needs no hook of its own for it.

Then ``finished``. Nothing it prints holds a name, an address, a token or a PIN.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import sys
from email.message import EmailMessage
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from console.models.database import open_database
from console.services.accounts.actions import resend_reset, revoke_access
from console.services.accounts.chart_actions import edit_contact, link_chart
from console.services.clock import ManualClock
from console.services.errors import DomainError
from console.services.imports.files import open_export
from console.services.imports.run import import_export
from console.services.invitations.issuing import cancel_invitation, reissue_invitation
from console.services.mail.mail_server import transport_from_url
from console.services.mail.relay import send_due
from console.services.mail.transport import ClosingTransport, Transport
from console.services.permissions import Actor
from console.services.settings.values import ConsoleSettings
from console.services.staff.users import sign_in
from console.services.workstation import Workstation
from console.services.workstation_setup import build_workstation
from tests.crash.common import ACCEPTED, BRANDING, FINISHED, FRONT_DESK, MANAGER, READY

Step = dict[str, Any]


def say(line: str) -> None:
    """One line to the parent, on its way before the next step starts."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def signed_in(workstation: Workstation, username: str) -> Actor:
    """The member of staff, signed in with the password the command line reads."""
    return sign_in(workstation, username, os.environ["PORTAL_CONSOLE_STAFF_PASSWORD"]).actor


def run_actions(workstation: Workstation, clock: ManualClock, plan: list[Step]) -> None:
    """Every step of ``plan`` in turn, as a member of the front desk would do them; a
    refusal (the step was done before a crash, say) is reported and the next step taken."""
    actor = signed_in(workstation, FRONT_DESK)
    issued: dict[int, int] = {}  # chart -> the invitation this run issued to it
    say(READY)
    for index, step in enumerate(plan):
        clock.advance(seconds=1)
        try:
            _act(workstation, actor, step, issued)
        except DomainError as refusal:
            say(f"refused {index} {type(refusal).__name__}")
        else:
            say(f"done {index}")


def _act(workstation: Workstation, actor: Actor, step: Step, issued: dict[int, int]) -> None:
    action = step["do"]
    if action == "link_chart":
        link_chart(workstation, actor, step["patient"], step["account"], step["relation"])
    elif action == "revoke_access":
        revoke_access(
            workstation,
            actor,
            step["account"],
            reason=step["reason"],
            notify_patient=step["notify"],
        )
    elif action == "reissue_invitation":
        invitation = reissue_invitation(workstation, actor, step["patient"], step["email"])
        issued[step["patient"]] = invitation.invitation_id  # the PIN is dropped here
    elif action == "edit_contact":
        edit_contact(
            workstation,
            actor,
            step["patient"],
            contact_email=step["email"],
            mobile_phone=step["phone"],
        )
    elif action == "resend_reset":
        resend_reset(workstation, actor, step["account"])
    elif action == "cancel_invitation":
        if step["patient"] not in issued:
            raise DomainError("this run issued no invitation to the chart")
        cancel_invitation(workstation, actor, issued.pop(step["patient"]))
    else:
        raise ValueError(f"unknown step {action!r}")


def run_import(workstation: Workstation, clock: ManualClock, path: Path) -> None:
    """The import of ``path``, as a manager starts it from the window or the command line."""
    actor = signed_in(workstation, MANAGER)
    export = open_export(path, today=clock.now().date())
    say(READY)
    import_export(workstation, actor, export, progress=lambda entries: say(f"batch {entries}"))


class PausingTransport(ClosingTransport):
    """The relay's transport, which stops this process (SIGSTOP) once the server has
    accepted its ``pause_after``-th message: the relay has sent it and not yet marked it."""

    def __init__(self, transport: Transport, pause_after: int | None) -> None:
        self.description = transport.description
        self._transport = transport
        self._pause_after = pause_after
        self._sent = 0

    def send(self, message: EmailMessage) -> None:
        self._transport.send(message)
        self._sent += 1
        if self._sent == self._pause_after:
            say(ACCEPTED)
            os.kill(os.getpid(), signal.SIGSTOP)

    def close(self) -> None:
        self._transport.close()


def run_relay(workstation: Workstation, smtp_url: str, pause_after: int | None) -> None:
    """One round of the mail relay (``outbox send --once``) to the server at ``smtp_url``."""
    say(READY)
    with PausingTransport(transport_from_url(smtp_url), pause_after) as transport:
        send_due(workstation, transport, BRANDING, progress=lambda done, _: say(f"handled {done}"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.crash.driver")
    parser.add_argument("scenario", choices=("actions", "import", "relay"))
    parser.add_argument("--db", required=True)
    parser.add_argument("--clock", required=True, type=dt.datetime.fromisoformat)
    parser.add_argument("--plan", type=Path)
    parser.add_argument("--file", type=Path)
    parser.add_argument("--smtp")
    parser.add_argument("--pause-after-sent", type=int)
    args = parser.parse_args(argv)
    clock = ManualClock(args.clock)
    database = open_database(args.db)
    try:
        workstation = build_workstation(database, ConsoleSettings(), clock=clock)
        if args.scenario == "actions":
            run_actions(workstation, clock, json.loads(args.plan.read_text()))
        elif args.scenario == "import":
            run_import(workstation, clock, args.file)
        else:
            run_relay(workstation, args.smtp, args.pause_after_sent)
    finally:
        database.dispose()
    say(FINISHED)
    return 0


def run_child(
    output: Connection, arguments: list[str], stderr_path: str, environ: dict[str, str]
) -> None:
    """``main(arguments)`` in a child process started by ``tests.crash.processes``: its
    standard output is the write end ``output`` of the parent's pipe, its standard error
    the file ``stderr_path``; its exit status is ``main``'s."""
    os.dup2(output.fileno(), 1)
    output.close()
    errors = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(errors, 2)
    os.close(errors)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 - for the process
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    os.environ.update(environ)
    code = 1
    try:
        code = main(arguments)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    sys.exit(code)


if __name__ == "__main__":
    sys.exit(main())
