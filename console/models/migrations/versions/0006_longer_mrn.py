"""Room for the MRNs other systems give: 64 characters, not 32.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 03:00:00.000000

EHRs that export FHIR often use a UUID (36 characters) as the medical record number, as
Synthea's records do. PostgreSQL widens the column in place. SQLite never enforced the
length, so only the table's declared type changes, in the schema text itself (the documented
way for changes that leave every stored row as it is): copying the table, as Alembic's batch
mode would, would drop the triggers that read it and the foreign keys that point at it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _declare_mrn(32, 64)


def downgrade() -> None:
    _declare_mrn(64, 32)


def _declare_mrn(before: int, after: int) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.alter_column("patients", "mrn", type_=sa.String(after), existing_type=sa.String(before))
        return
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = replace(sql, ?, ?) "
            "WHERE type = 'table' AND name = 'patients'",
            (f"mrn VARCHAR({before})", f"mrn VARCHAR({after})"),
        )
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
