"""The outbox relay: a claim on each message being sent, and the password-reset link.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 09:30:00.000000

A relay claims a message until ``claimed_until`` (another relay takes it over only after
that, e.g. when the first one crashed), and a reset e-mail's link is minted when it is sent:
only its SHA-256 is kept on the account, with the time the link stops working.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN and CREATE INDEX: a batch (copy-and-rename) of portal_accounts on
    # SQLite would break the triggers that read it.
    op.add_column("outbox_messages", sa.Column("claimed_until", sa.DateTime(timezone=True)))
    op.add_column("portal_accounts", sa.Column("reset_token_hash", sa.String(64)))
    op.add_column(
        "portal_accounts", sa.Column("reset_token_expires_at", sa.DateTime(timezone=True))
    )
    op.create_index(
        "ix_portal_accounts_reset_token_hash", "portal_accounts", ["reset_token_hash"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_portal_accounts_reset_token_hash", "portal_accounts")
    with op.batch_alter_table("portal_accounts", recreate="never") as batch:
        batch.drop_column("reset_token_expires_at")
        batch.drop_column("reset_token_hash")
    with op.batch_alter_table("outbox_messages", recreate="never") as batch:
        batch.drop_column("claimed_until")
