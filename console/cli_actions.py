"""The headless staff actions of ``portal-console``: one thin function per command over the
same service functions the window calls. A refusal is one line on stderr and exit status 2.

Where a command acts from and as whom (the workstation, the signed-in staff user, how
passwords are read) is ``console.cli_workstation``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from sqlalchemy.orm import Session

from console.cli_input import whole_number
from console.cli_workstation import (
    Adder,
    CommandRefused,
    acting,
    password_input,
    reading_patient_data,
    secret_input,
    with_staff,
    workstation_for,
)
from console.models.states import StaffRole
from console.services.accounts.actions import (
    RevokeReason,
    deactivate_account,
    resend_reset,
    revoke_access,
)
from console.services.accounts.chart_actions import link_chart
from console.services.accounts.lookup import explain_account, find_account_id, find_patient_id
from console.services.accounts.portal_login import LoginOutcome, portal_login
from console.services.audit.key import DEMO_LABEL, AuditLogDamaged
from console.services.audit.verifier import verify_chain
from console.services.invitations.acceptance import accept_invitation
from console.services.invitations.issuing import reissue_invitation
from console.services.staff.users import add_staff_user
from console.services.workstation import Changes, Workstation

EXIT_NOT_SIGNED_IN = 3
EXIT_AUDIT_BROKEN = 4
#: A sound chain under a demo database's key, which sits in the database it protects: never
#: 0, so that no script takes a demo chain (or a clinic's passed off as one) for a sealed one.
EXIT_AUDIT_DEMO = 5
AUDIT_EXIT_STATUSES = f"""exit status:
  0  sound, and sealed with the clinic's own key: "OK <n> events"
  4  broken: the first edited, removed, reordered or forged event ("event <id>: ..."), or
     a chain that does not end at its checkpoint, or a missing or edited head row
     ("checkpoint: ...")
  5  demo chain: not tamper-proof. Sound, but under a demo database's key, which sits in
     the database it protects: "OK <n> events ({DEMO_LABEL})"
  2  not checked: no audit key for this database on this workstation (the line says how
     to set it up), or bad input"""


def _done(text: str, changes: Changes) -> int:
    unblocked = ", ".join(str(a) for a in sorted(changes.unblocked))
    print(text + (f"; can sign in again: account {unblocked}" if unblocked else ""))
    return 0


def cmd_staff_add(args: argparse.Namespace) -> int:
    """Add a console user (the first one of a new database: an admin, without --staff)."""
    with workstation_for(args) as workstation:
        actor = acting(workstation, args.staff) if args.staff else None
        password = password_input(f"Password for {args.username}")
        changes = add_staff_user(
            workstation, actor, args.username, args.role, password, display_name=args.name
        )
    return _done(f"Added staff user {args.username} ({args.role})", changes)


def cmd_explain(args: argparse.Namespace) -> int:
    """What the patient sees at login, and why, for an account."""
    with reading_patient_data(args, "explain", {"account": args.account}) as (workstation, read):
        found = explain_account(
            workstation.database,
            args.account,
            now=workstation.clock.now(),
            portal_name=workstation.rules.portal_name,
        )
        read.rows, read.target = 1, ("account", found.account_id)
    lines = [
        ("Account", f"{found.account_id} ({found.username})"),
        ("Chart", found.mrn),
        ("State", found.state),
        ("Shared e-mail", ", ".join(found.shares_email_with) or "no"),
        ("Patient sees", found.view.message),
        ("Why", found.view.explanation),
    ]
    if found.view.suggested_fix:
        lines.append(("Suggested fix", found.view.suggested_fix))
    for label, value in lines:
        print(f"{label + ':':<15}{value}")
    return 0


def cmd_portal_login(args: argparse.Namespace) -> int:
    """Log in as a patient would; exit 0 when signed in, 3 otherwise."""
    password = password_input("Portal password", new=False)
    with workstation_for(args) as workstation:

        def audit(session: Session, outcome: LoginOutcome) -> None:
            workstation.audit.record(
                session,
                "portal_login",
                actor=None,
                outcome=outcome.situation.value,
                target_type="account",
                target_id=outcome.account_id,
            )

        outcome = portal_login(
            workstation.database,
            args.login,
            password,
            clock=workstation.clock,
            policy=workstation.rules.login,
            portal_name=workstation.rules.portal_name,
            on_outcome=audit,
        )
    print(outcome.message)
    return 0 if outcome.signed_in else EXIT_NOT_SIGNED_IN


def cmd_revoke(args: argparse.Namespace) -> int:
    """Revoke an account's access (SPEC §5)."""
    with workstation_for(args) as workstation:
        actor = acting(workstation, args.staff)
        account = _account(workstation, args.account)
        changes = revoke_access(
            workstation,
            actor,
            account,
            reason=args.reason,
            note=args.note,
            notify_patient=args.notify,
        )
    return _done(f"Revoked account {account}", changes)


def cmd_invite(args: argparse.Namespace) -> int:
    """Re-issue an invitation from a chart; prints its id, the PIN and the expiry as JSON."""
    with workstation_for(args) as workstation:
        actor = acting(workstation, args.staff)
        with workstation.database.engine.connect() as connection:
            patient = find_patient_id(connection, args.mrn)
        issued = reissue_invitation(
            workstation, actor, patient, args.email, expires_days=args.expires_days
        )
    record = {
        "invitation_id": issued.invitation_id,
        "pin": issued.pin,
        "expires_at": issued.expires_at.isoformat(),
        "email": issued.address,
        "warning": issued.warning,
        "carried_links": issued.carried_links,
    }
    print(json.dumps(record, indent=2))
    return 0


def cmd_accept(args: argparse.Namespace) -> int:
    """Accept an invitation as the patient (token, PIN and new password on standard input)."""
    try:
        birth_date = dt.date.fromisoformat(args.dob)
    except ValueError:
        raise CommandRefused("Give the date of birth as YYYY-MM-DD, e.g. 1984-03-09.") from None
    token = secret_input("invitation token")
    pin = secret_input("PIN")
    password = password_input("New portal password")
    with workstation_for(args) as workstation:
        accepted = accept_invitation(workstation, token, pin, birth_date, password)
    print(f"Account {accepted.account_id} created; log in as {accepted.username}")
    return 0


def cmd_link(args: argparse.Namespace) -> int:
    """Link a chart to an account as its guardian or proxy."""
    with workstation_for(args) as workstation:
        actor = acting(workstation, args.staff)
        account = _account(workstation, args.account)
        with workstation.database.engine.connect() as connection:
            patient = find_patient_id(connection, args.mrn)
        linked = link_chart(workstation, actor, patient, account, args.relation)
    if linked.review_warning:
        print(linked.review_warning, file=sys.stderr)
    return _done(f"Linked chart {args.mrn.strip()} to account {account}", linked.changes)


def cmd_resend_reset(args: argparse.Namespace) -> int:
    """Queue another password reset e-mail for an account."""
    with workstation_for(args) as workstation:
        actor = acting(workstation, args.staff)
        account = _account(workstation, args.account)
        changes = resend_reset(workstation, actor, account)
    return _done(f"Reset e-mail queued for account {account}", changes)


def cmd_deactivate(args: argparse.Namespace) -> int:
    """Close an account at the patient's request."""
    with workstation_for(args) as workstation:
        actor = acting(workstation, args.staff)
        account = _account(workstation, args.account)
        changes = deactivate_account(workstation, actor, account, note=args.note)
    return _done(f"Deactivated account {account}", changes)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Check the audit log's chain: 0 sound, 4 broken, 5 a demo's (not tamper-proof)."""
    try:
        with workstation_for(args) as workstation:
            report = verify_chain(workstation.database, workstation.audit.key)
    except AuditLogDamaged as damaged:
        # Its head row is gone: tampering like any other, not a question of the key.
        print(f"checkpoint: {damaged}")
        return EXIT_AUDIT_BROKEN
    print(report.summary())
    if not report.ok:
        return EXIT_AUDIT_BROKEN
    return 0 if report.tamper_proof else EXIT_AUDIT_DEMO


def add_action_commands(add: Adder) -> None:
    """The staff-action commands, added to the main parser by ``console.cli``."""
    staff = add("staff", cmd_staff_add)
    staff.add_argument("verb", choices=("add",))
    staff.add_argument("username")
    staff.add_argument("--role", required=True, choices=[r.value for r in StaffRole])
    staff.add_argument("--name", help="display name (default: the username)")
    staff.add_argument("--staff", metavar="ADMIN", help="the administrator adding the user")

    with_staff(add("explain", cmd_explain)).add_argument("account", help="account id or username")
    add("portal-login", cmd_portal_login).add_argument("login", help="login e-mail or username")

    revoke = with_staff(add("revoke", cmd_revoke))
    revoke.add_argument("account", help="account id or username")
    revoke.add_argument("--reason", required=True, choices=[r.value for r in RevokeReason])
    revoke.add_argument("--note", default="", help="required with --reason other")
    revoke.add_argument(
        "--notify", action="store_true", help="e-mail the login address that access ended"
    )

    invite = with_staff(add("invite", cmd_invite))
    invite.add_argument("mrn")
    invite.add_argument("--email", required=True)
    invite.add_argument("--expires-days", type=whole_number(), metavar="N")

    # The token and the PIN are read from standard input: never on a command line.
    add("accept", cmd_accept).add_argument("--dob", required=True, metavar="YYYY-MM-DD")

    link = with_staff(add("link", cmd_link))
    link.add_argument("mrn")
    link.add_argument("--account", required=True, help="the guardian's account id or username")
    link.add_argument("--relation", required=True, choices=("guardian", "proxy"))

    with_staff(add("resend-reset", cmd_resend_reset)).add_argument("account")
    deactivate = with_staff(add("deactivate", cmd_deactivate))
    deactivate.add_argument("account")
    deactivate.add_argument("--note", default="")

    audit = add("audit", cmd_audit_verify)
    audit.add_argument("verb", choices=("verify",))
    audit.epilog = AUDIT_EXIT_STATUSES
    audit.formatter_class = argparse.RawDescriptionHelpFormatter


def _account(workstation: Workstation, reference: str) -> int:
    with workstation.database.engine.connect() as connection:
        return find_account_id(connection, reference)


__all__ = [
    "AUDIT_EXIT_STATUSES",
    "EXIT_AUDIT_BROKEN",
    "EXIT_AUDIT_DEMO",
    "EXIT_NOT_SIGNED_IN",
    "add_action_commands",
]
