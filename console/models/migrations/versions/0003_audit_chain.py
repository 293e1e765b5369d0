"""The audit log becomes a keyed hash chain: a sequence number and a chain hash on every
event, and the one-row head that appenders lock and that records the last checkpoint.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 09:00:00.000000

The head row is made here, so every database (new or upgraded) has exactly one, with a random
``database_id`` that names its audit key in the keyring. The key itself is never stored in
the database (only a demo database keeps a demo key, written by the demo loader).

Events written before this revision cannot be chained (the key is not in the database): they
are numbered in the order of their ids and get an empty chain hash, so that the verifier
reports them instead of vouching for them.
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("database_id", sa.String(length=32), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=True),
        sa.Column("last_hash", sa.String(length=64), nullable=True),
        sa.Column("head_mac", sa.String(length=64), nullable=True),
        sa.Column("demo_key", sa.String(length=64), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_head_single_row")),
        sa.CheckConstraint("last_seq >= 0", name=op.f("ck_audit_chain_head_last_seq")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("chain_hash", sa.String(length=64), nullable=True))
    # Earlier events (if any) in the order of their ids; the same SQL on both backends.
    op.execute(
        "UPDATE audit_events SET chain_hash = '', seq = "
        "(SELECT count(*) FROM audit_events AS e WHERE e.id <= audit_events.id)"
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("chain_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_events_seq"), ["seq"])

    connection = op.get_bind()
    earlier = connection.execute(sa.text("SELECT count(*) FROM audit_events")).scalar_one()
    head = sa.table(
        "audit_chain_head",
        sa.column("id", sa.Integer()),
        sa.column("database_id", sa.String()),
        sa.column("last_seq", sa.Integer()),
    )
    op.bulk_insert(head, [{"id": 1, "database_id": uuid.uuid4().hex, "last_seq": earlier}])


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_events_seq"), type_="unique")
        batch_op.drop_column("chain_hash")
        batch_op.drop_column("seq")
    op.drop_table("audit_chain_head")
