"""Initial schema, and the triggers that keep the shared-e-mail flag right.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 20:58:11.871725
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The shared-e-mail flag (SPEC §3) is kept by the database itself, so it is right after every
# change to a login e-mail or a state, whoever makes it, and reading it for a page of a million
# accounts is reading one column. Only rows whose flag actually changes are written, and the
# count stops at two, so even a placeholder address used by thousands of accounts stays cheap.
ACTIVE = "('legacy', 'reset_pending', 'migrated')"


def refresh_flag(key: str, own_id: str | None = None) -> str:
    """SQL that sets shared_email right for every account whose email_key is ``key`` (and for
    the account ``own_id`` itself, whose address may just have been cleared)."""
    holders = (
        f"SELECT count(*) FROM (SELECT 1 FROM portal_accounts WHERE email_key = {key} "
        f"AND state IN {ACTIVE} LIMIT 2) AS active_holders"
    )
    rows = f"(email_key = {key} OR id = {own_id})" if own_id else f"email_key = {key}"
    return (
        "UPDATE portal_accounts SET shared_email = NOT shared_email "
        f"WHERE {rows} AND shared_email <> (state IN {ACTIVE} AND ({holders}) > 1)"
    )


SHARED_EMAIL_TRIGGERS = {
    "sqlite": [
        f"""CREATE TRIGGER portal_accounts_shared_email_insert AFTER INSERT ON portal_accounts
        WHEN NEW.email_key IS NOT NULL
        BEGIN {refresh_flag("NEW.email_key")}; END""",
        f"""CREATE TRIGGER portal_accounts_shared_email_update
        AFTER UPDATE OF email_key, state ON portal_accounts
        BEGIN {refresh_flag("OLD.email_key")}; {refresh_flag("NEW.email_key", "NEW.id")}; END""",
        f"""CREATE TRIGGER portal_accounts_shared_email_delete AFTER DELETE ON portal_accounts
        WHEN OLD.email_key IS NOT NULL
        BEGIN {refresh_flag("OLD.email_key")}; END""",
    ],
    # Two workstations adding the same address at once must not both see "one holder", so
    # changes to one address are serialised by an advisory lock. The lock is on one of 1024
    # buckets of the address, not on the address itself: a bulk transaction would otherwise
    # need one lock per address and overflow the server's lock table. Buckets are taken in
    # order, so two transactions cannot deadlock on them.
    "postgresql": [
        f"""CREATE FUNCTION portal_accounts_refresh_shared_email() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            old_key text;
            new_key text;
        BEGIN
            IF TG_OP <> 'INSERT' THEN old_key := OLD.email_key; END IF;
            IF TG_OP <> 'DELETE' THEN new_key := NEW.email_key; END IF;
            PERFORM pg_advisory_xact_lock(2026, bucket)
               FROM (SELECT DISTINCT hashtext(k) & 1023 AS bucket
                       FROM unnest(ARRAY[old_key, new_key]) AS k
                      WHERE k IS NOT NULL) AS buckets
              ORDER BY bucket;
            IF old_key IS NOT NULL AND old_key IS DISTINCT FROM new_key THEN
                {refresh_flag("old_key")};
            END IF;
            IF TG_OP <> 'DELETE' THEN {refresh_flag("new_key", "NEW.id")}; END IF;
            RETURN NULL;
        END $$""",
        """CREATE TRIGGER portal_accounts_shared_email
        AFTER INSERT OR DELETE OR UPDATE OF email_key, state ON portal_accounts
        FOR EACH ROW EXECUTE FUNCTION portal_accounts_refresh_shared_email()""",
    ],
}
DROP_SHARED_EMAIL_TRIGGERS = {
    "sqlite": [
        f"DROP TRIGGER portal_accounts_shared_email_{event}"
        for event in ("insert", "update", "delete")
    ],
    "postgresql": [
        "DROP TRIGGER portal_accounts_shared_email ON portal_accounts",
        "DROP FUNCTION portal_accounts_refresh_shared_email()",
    ],
}


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mrn", sa.String(length=32), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=True),
        sa.Column("mobile_phone", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("mrn", name=op.f("uq_patients_mrn")),
    )
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patients_last_name_first_name_id"),
            ["last_name", "first_name", "id"],
            unique=False,
        )

    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("username_key", sa.String(length=150), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=100), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "role IN ('front_desk', 'manager', 'admin')", name=op.f("ck_staff_users_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("username_key", name=op.f("uq_staff_users_username_key")),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("staff_username", sa.String(length=150), nullable=True),
        sa.Column("workstation", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target_type", sa.String(length=40), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name=op.f("fk_audit_events_staff_user_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_events_occurred_at"), ["occurred_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_audit_events_target_type_target_id"),
            ["target_type", "target_id"],
            unique=False,
        )

    op.create_table(
        "portal_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("username_key", sa.String(length=150), nullable=False),
        sa.Column("login_email", sa.String(length=320), nullable=True),
        sa.Column("email_key", sa.String(length=320), nullable=True),
        sa.Column("shared_email", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=100), nullable=True),
        sa.Column("security_stamp", sa.String(length=64), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("intake_form_count", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.String(length=40), nullable=True),
        sa.Column("revoke_note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "state IN ('legacy', 'reset_pending', 'migrated', 'revoked', 'deactivated')",
            name=op.f("ck_portal_accounts_state"),
        ),
        sa.CheckConstraint("failed_logins >= 0", name=op.f("ck_portal_accounts_failed_logins")),
        sa.CheckConstraint(
            "message_count >= 0 AND intake_form_count >= 0",
            name=op.f("ck_portal_accounts_held_counts"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_portal_accounts_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_accounts")),
        sa.UniqueConstraint("username_key", name=op.f("uq_portal_accounts_username_key")),
    )
    with op.batch_alter_table("portal_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_accounts_email_key"), ["email_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_portal_accounts_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_portal_accounts_shared_email_email_key"),
            ["shared_email", "email_key"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_portal_accounts_state"), ["state"], unique=False)

    op.create_table(
        "access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=10), nullable=False),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("revoke_reason", sa.String(length=40), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "relation IN ('self', 'guardian', 'proxy')", name=op.f("ck_access_relation")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["portal_accounts.id"],
            name=op.f("fk_access_account_id_portal_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_id"], ["staff_users.id"], name=op.f("fk_access_granted_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_access_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], ["staff_users.id"], name=op.f("fk_access_revoked_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access")),
    )
    with op.batch_alter_table("access", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("target_email", sa.String(length=320), nullable=False),
        sa.Column("email_key", sa.String(length=320), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("pin_hash", sa.String(length=100), nullable=False),
        sa.Column("pin_failures", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_account_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'accepted', 'expired', 'cancelled')",
            name=op.f("ck_invitations_state"),
        ),
        sa.ForeignKeyConstraint(
            ["accepted_account_id"],
            ["portal_accounts.id"],
            name=op.f("fk_invitations_accepted_account_id_portal_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff_users.id"],
            name=op.f("fk_invitations_created_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_invitations_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitations_email_key"), ["email_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_invitations_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invitations_state"), ["state"], unique=False)

    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("to_email", sa.String(length=320), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('password_reset', 'invitation', 'access_revoked')",
            name=op.f("ck_outbox_messages_kind"),
        ),
        sa.CheckConstraint(
            "state IN ('queued', 'sent', 'failed', 'cancelled')",
            name=op.f("ck_outbox_messages_state"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["portal_accounts.id"],
            name=op.f("fk_outbox_messages_account_id_portal_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_outbox_messages_invitation_id_invitations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_messages_message_id")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_messages_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_messages_invitation_id"), ["invitation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_messages_state_next_attempt_at"),
            ["state", "next_attempt_at"],
            unique=False,
        )

    for statement in SHARED_EMAIL_TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_SHARED_EMAIL_TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_messages_state_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_outbox_messages_invitation_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_messages_account_id"))

    op.drop_table("outbox_messages")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_state"))
        batch_op.drop_index(batch_op.f("ix_invitations_patient_id"))
        batch_op.drop_index(batch_op.f("ix_invitations_email_key"))

    op.drop_table("invitations")
    with op.batch_alter_table("access", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_patient_id"))
        batch_op.drop_index(batch_op.f("ix_access_account_id"))

    op.drop_table("access")
    with op.batch_alter_table("portal_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_accounts_state"))
        batch_op.drop_index(batch_op.f("ix_portal_accounts_shared_email_email_key"))
        batch_op.drop_index(batch_op.f("ix_portal_accounts_patient_id"))
        batch_op.drop_index(batch_op.f("ix_portal_accounts_email_key"))

    op.drop_table("portal_accounts")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_target_type_target_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_occurred_at"))

    op.drop_table("audit_events")
    op.drop_table("staff_users")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patients_last_name_first_name_id"))

    op.drop_table("patients")
