"""E-mail throughput (issue 7): messages per second from the outbox to a local SMTP server,
one connection reused for the whole run.

    .venv/bin/python -m bench.mail_throughput              # 2,000 invitations
    .venv/bin/python -m bench.mail_throughput --messages 500

It queues invitation e-mails in a new SQLite outbox (straight into the tables: re-issuing
each would time bcrypt, not mail), starts an aiosmtpd server on 127.0.0.1, and times the real
relay (claim, mint the link, compose, send, mark, audit: two transactions a message), then
the SMTP transport alone on the same messages, for comparison. It prints both rates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import socket
import tempfile
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from console.models.database import open_database
from console.models.schema import Invitation, Patient
from console.models.states import OutboxKind
from console.services.audit.key import AuditKey
from console.services.audit.trail import AuditTrail
from console.services.clock import ManualClock
from console.services.mail.outbox import queue_email
from console.services.mail.relay import send_due
from console.services.mail.smtp import SmtpTransport
from console.services.mail.templates import Branding, compose
from console.services.settings.values import SmtpSecurity
from console.services.workstation import Workstation

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
BRANDING = Branding(
    clinic_name="Riverside Family Clinic",
    portal_name="MyHealth",
    portal_base_url="https://portal.example.org",
    clinic_phone="555-0100",
    sender="portal@example.org",
)


class _Counting:
    """An SMTP server that accepts and counts every message."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, _server: object, _session: object, _envelope: object) -> str:
        self.received += 1
        return "250 2.0.0 Ok"


def queue_invitations(workstation: Workstation, count: int) -> None:
    with Session(workstation.database.writer) as session, session.begin():
        for n in range(count):
            patient = Patient(
                mrn=f"B{n:07d}", first_name="Bench", last_name=f"Patient{n}",
                birth_date=dt.date(1980, 1, 1),
            )  # fmt: skip
            session.add(patient)
            session.flush()
            invitation = Invitation(
                patient_id=patient.id,
                target_email=f"patient{n}@example.org",
                pin_hash="not-a-real-hash",
                expires_at=NOW + dt.timedelta(days=7),
                created_at=NOW,
            )
            session.add(invitation)
            session.flush()
            queue_email(
                session,
                OutboxKind.INVITATION,
                invitation.target_email,
                now=NOW,
                invitation_id=invitation.id,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    count = parser.parse_args().messages
    handler = _Counting()
    with socket.socket() as probe:  # a free port on 127.0.0.1
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    handler.received = 0  # the controller's own start-up check
    try:
        with tempfile.TemporaryDirectory() as folder:
            database = open_database(f"sqlite:///{Path(folder) / 'bench.db'}")
            clock = ManualClock(NOW)
            key = AuditKey(secret=secrets.token_bytes(32), source="benchmark")
            workstation = Workstation(
                database, AuditTrail(key, workstation="bench", clock=clock), clock
            )
            queue_invitations(workstation, count)

            started = time.perf_counter()
            with SmtpTransport("127.0.0.1", port, SmtpSecurity.NONE) as transport:
                report = send_due(workstation, transport, BRANDING)
            relay_seconds = time.perf_counter() - started
            assert report.sent == count == handler.received, (report, handler.received)

            messages = [
                compose(
                    OutboxKind.INVITATION,
                    to_email=f"patient{n}@example.org",
                    message_id=f"<bench-{n}@portal-console>",
                    branding=BRANDING,
                    sent_at=NOW,
                    link=f"https://portal.example.org/accept-invitation?token=t{n}",
                    expires_at=NOW + dt.timedelta(days=7),
                )
                for n in range(count)
            ]
            started = time.perf_counter()
            with SmtpTransport("127.0.0.1", port, SmtpSecurity.NONE) as transport:
                for message in messages:
                    transport.send(message)
            smtp_seconds = time.perf_counter() - started
            database.dispose()
    finally:
        server.stop()
    print(f"{count:,} invitation e-mails to a local SMTP server, one connection reused")
    print(
        f"  relay, end to end (claim, link, send, mark, audit): {count / relay_seconds:8.0f} msg/s"
    )
    print(
        f"  SMTP transport alone:                               {count / smtp_seconds:8.0f} msg/s"
    )


if __name__ == "__main__":
    main()
