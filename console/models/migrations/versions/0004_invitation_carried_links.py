"""An invitation carries the family links of the account it replaces.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 23:55:00.000000

Revoking a guardian's account ends its links to the children's charts; the invitation that
replaces it keeps them (as JSON: chart ids and relations), and accepting it restores them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.add_column(sa.Column("carried_links", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.drop_column("carried_links")
