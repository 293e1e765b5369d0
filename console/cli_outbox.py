"""``portal-console outbox send|list``: the e-mail relay for a scheduled job or one designated
workstation, and the outbox as CSV or JSON (issue 7).

``send`` takes the mail server from the settings file (its password from the system keyring)
unless ``--transport`` names another: ``smtp://``, ``smtps://`` or ``dir://PATH`` (one
``.eml`` file per message). It sends what is due and, without ``--once``, keeps watching
the outbox until stopped (Ctrl+C). The relay acts as no staff user; its audit events name
this workstation.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from console.cli_input import seconds
from console.cli_workstation import (
    Adder,
    CommandRefused,
    command_settings,
    reading_patient_data,
    workstation_for,
)
from console.models.states import OutboxState
from console.services.mail.mail_server import transport_from_settings, transport_from_url
from console.services.mail.outbox_list import list_outbox
from console.services.mail.relay import RelayReport, send_due
from console.services.mail.templates import branding_from
from console.services.mail.transport import Transport
from console.services.settings.secrets_store import SecretsStore, smtp_password_entry
from console.services.settings.values import ConsoleSettings
from console.tabular import FORMATS, write_records

OUTBOX_COLUMNS = (
    "message_id",
    "kind",
    "to_email",
    "state",
    "attempts",
    "created_at",
    "next_attempt_at",
    "sent_at",
    "last_error",
)
DEFAULT_INTERVAL = 30.0
_LIST_LIMIT = 1_000_000


def cmd_outbox(args: argparse.Namespace) -> int:
    """Send the queued e-mails (send), or list the outbox (list)."""
    return _send(args) if args.verb == "send" else _list(args)


def _send(args: argparse.Namespace) -> int:
    settings = command_settings()
    branding = branding_from(settings)
    make_transport = _transport_maker(args.transport, settings)
    with workstation_for(args, settings) as workstation:
        while True:
            with make_transport() as transport:
                report = send_due(workstation, transport, branding)
            if report.handled or args.once:
                print(_summary(report, transport), flush=True)
            if args.once:
                return 0
            try:
                time.sleep(args.interval)
            except KeyboardInterrupt:
                return 0


def _list(args: argparse.Namespace) -> int:
    # The outbox holds patients' e-mail addresses: read by a signed-in member of staff only.
    with reading_patient_data(args, "outbox list", {"state": args.state}) as (workstation, read):
        state = OutboxState(args.state) if args.state else None
        page = list_outbox(workstation, read.actor, state=state, limit=_LIST_LIMIT)
        records = ({c: getattr(row, c) for c in OUTBOX_COLUMNS} for row in read.counted(page.rows))
        write_records(records, OUTBOX_COLUMNS, args.format, sys.stdout)
    return 0


def _transport_maker(url: str | None, settings: ConsoleSettings) -> Callable[[], Transport]:
    """A new transport for each round (one connection reused within it)."""
    if url:
        user = urlsplit(url).username
        host = urlsplit(url).hostname or ""
        password = _smtp_password(host) if user else None
        transport_from_url(url, password=password)  # refuse a bad URL before anything runs
        return lambda: transport_from_url(url, password=password)
    if not settings.smtp_host:
        raise CommandRefused(
            "No mail server is set: set it in Settings, or give --transport "
            "(smtp://HOST, smtps://HOST or dir://FOLDER)."
        )
    password = _smtp_password(settings.smtp_host) if settings.smtp_username else None
    return lambda: transport_from_settings(settings, password)


def _smtp_password(host: str) -> str | None:
    return os.environ.get("PORTAL_CONSOLE_SMTP_PASSWORD") or SecretsStore().get(
        smtp_password_entry(host)
    )


def _summary(report: RelayReport, transport: Transport) -> str:
    return (
        f"{transport.description}: {report.sent} sent, {report.retrying} to retry, "
        f"{report.failed} failed, {report.dropped} no longer needed"
    )


def add_outbox_commands(add: Adder) -> None:
    """``outbox send|list``, added to the main parser by ``console.cli``."""
    outbox = add("outbox", cmd_outbox)
    outbox.add_argument("verb", choices=("send", "list"))
    outbox.add_argument("--once", action="store_true", help="send: one round, then stop")
    outbox.add_argument("--transport", metavar="URL", help="send: smtp://, smtps:// or dir://")
    outbox.add_argument(
        "--interval",
        type=seconds,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"send: between rounds (default {DEFAULT_INTERVAL:g})",
    )
    outbox.add_argument("--staff", metavar="USER", help="list: the member of staff reading it")
    outbox.add_argument("--state", choices=[s.value for s in OutboxState], help="list: only these")
    outbox.add_argument("--format", choices=FORMATS, default="table", help="list: output")


__all__ = ["add_outbox_commands"]
