"""Writing one planned batch of an import (issue 13, point 4), in the caller's transaction:
new charts, then their accounts and each account's ``self`` access, then the updates.

Rows go through ``models.bulk_load.insert_rows``, the loader the demo clinic uses too, with
SQLAlchemy Core (many rows per statement); the database's triggers keep the shared-e-mail
flags, the list's sort names and the search index right, row by row, so that the worklist is
right the moment the batch commits.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from console.models.bulk_load import insert_rows
from console.models.email_key import email_key
from console.models.schema import Base, Patient, PortalAccount
from console.models.states import ACTIVE_STATES, AccessRelation
from console.services.imports.plan import BatchPlan
from console.services.imports.source import SourceRow
from console.services.permissions import Actor

_TABLES = Base.metadata.tables

#: Why an imported account that arrives closed has no open access.
IMPORTED_CLOSED = "imported_closed"


def write_batch(session: Session, plan: BatchPlan, actor: Actor, now: dt.datetime) -> set[str]:
    """Carry out ``plan``; the comparison keys of the login e-mails it touched come back (the
    shared-e-mail clusters that may have changed)."""
    connection = session.connection()
    new_ids = insert_rows(
        connection, _TABLES["patients"], [_chart(row, now) for row in plan.new_charts], "mrn"
    )
    if plan.chart_updates:
        connection.execute(
            update(Patient)
            .where(Patient.id == bindparam("b_id"))
            .values(
                first_name=bindparam("b_first"),
                last_name=bindparam("b_last"),
                birth_date=bindparam("b_born"),
                contact_email=bindparam("b_email"),
                mobile_phone=bindparam("b_phone"),
                updated_at=now,
                version=Patient.version + 1,
            ),
            [_chart_values(u.patient_id, u.row) for u in plan.chart_updates],
            execution_options={"synchronize_session": False},
        )
    accounts = [
        _account(row, patient_id or new_ids[row.chart.mrn], now)
        for row, patient_id in plan.new_accounts
    ]
    account_ids = insert_rows(connection, _TABLES["portal_accounts"], accounts, "username_key")
    insert_rows(
        connection,
        _TABLES["access"],
        [
            _access(account, account_ids[account["username_key"]], actor, now)
            for account in accounts
        ],
    )
    if plan.account_updates:
        connection.execute(
            update(PortalAccount)
            .where(PortalAccount.id == bindparam("b_id"))
            .values(
                login_email=bindparam("b_login"),
                email_key=bindparam("b_key"),
                state=bindparam("b_state"),
                updated_at=now,
                version=PortalAccount.version + 1,
            ),
            [
                {"b_id": u.account_id, "b_login": u.login_email}
                | {"b_key": email_key(u.login_email), "b_state": u.state.value}
                for u in plan.account_updates
            ],
            execution_options={"synchronize_session": False},
        )
    touched = {account["email_key"] for account in accounts}
    touched |= {email_key(u.login_email) for u in plan.account_updates}
    return {key for key in touched if key}


def _chart(row: SourceRow, now: dt.datetime) -> dict[str, Any]:
    chart = row.chart
    return {
        "mrn": chart.mrn,
        "first_name": chart.first_name,
        "last_name": chart.last_name,
        "birth_date": chart.birth_date,
        "contact_email": chart.contact_email,
        "mobile_phone": chart.mobile_phone,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }


def _chart_values(patient_id: int, row: SourceRow) -> dict[str, Any]:
    chart = row.chart
    return {
        "b_id": patient_id,
        "b_first": chart.first_name,
        "b_last": chart.last_name,
        "b_born": chart.birth_date,
        "b_email": chart.contact_email,
        "b_phone": chart.mobile_phone,
    }


def _account(row: SourceRow, patient_id: int, now: dt.datetime) -> dict[str, Any]:
    account = row.account
    assert account is not None
    closed = account.state not in ACTIVE_STATES
    return {
        "patient_id": patient_id,
        "username": account.username,
        "username_key": account.username.strip().casefold(),
        "login_email": account.login_email,
        "email_key": email_key(account.login_email),
        "shared_email": False,
        "state": account.state.value,
        "password_hash": None,
        "security_stamp": secrets.token_hex(16),
        "failed_logins": 0,
        "last_login_at": account.last_login_at,
        "message_count": 0,
        "intake_form_count": 0,
        "revoked_at": now if closed else None,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }


def _access(
    account: dict[str, Any], account_id: int, actor: Actor, now: dt.datetime
) -> dict[str, Any]:
    closed = account["revoked_at"] is not None
    return {
        "account_id": account_id,
        "patient_id": account["patient_id"],
        "relation": AccessRelation.SELF.value,
        "needs_review": False,
        "granted_at": now,
        "granted_by_id": actor.id,
        "revoked_at": now if closed else None,
        "revoked_by_id": actor.id if closed else None,
        "revoke_reason": IMPORTED_CLOSED if closed else None,
        "version": 1,
    }


__all__ = ["IMPORTED_CLOSED", "write_batch"]
