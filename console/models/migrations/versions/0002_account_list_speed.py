"""The account list at a million accounts: a name sort key, list indexes, and (on SQLite) a
trigram search index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 09:00:00.000000

``portal_accounts.sort_name`` is the account holder's name as the list sorts it: lower-cased
last name, a unit separator (below every printable character, so "Smith" comes before
"Smithson" whatever the first names), lower-cased first name. The database keeps it, from the
chart, when an account is added or moved to another chart and when a chart is renamed, so
every writer (the services, the demo loader's bulk inserts) gets it right without knowing.
With the indexes below a window anywhere in the sorted list is read from an index alone.

On SQLite (when its FTS5 has the trigram tokenizer, SQLite 3.34 or later) the search box is
served by ``account_search``: one row per account holding the five searched fields, lower-cased,
in ``account_search_text``, and an FTS5 trigram index over it, so that any piece of three or
more characters is found without reading a million rows. Triggers keep both right after every
change to an account or a chart. PostgreSQL keeps searching with ILIKE: its trigram index
(pg_trgm) is an extension that a clinic's server may not allow.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# These statements are frozen copies: later code may change, what this revision did may not.
SEPARATOR = {"sqlite": "char(31)", "postgresql": "chr(31)"}


def sort_name(dialect: str, first: str, last: str) -> str:
    """SQL for the sort key of a person named ``first`` ``last``."""
    return f"lower({last}) || {SEPARATOR[dialect]} || lower({first})"


SQLITE_SORT_NAME = sort_name("sqlite", "p.first_name", "p.last_name")
_SQLITE_EXPECTED_SORT_NAME = (
    f"(SELECT {SQLITE_SORT_NAME} FROM patients AS p WHERE p.id = NEW.patient_id)"
)


def _sqlite_fix_sort_name(trigger: str, event: str) -> str:
    # SQLite cannot change NEW in a BEFORE trigger: the row is corrected right after it is
    # written, and only when it is wrong (a writer that passes the right key pays one read).
    return f"""CREATE TRIGGER {trigger} AFTER {event} ON portal_accounts
    WHEN NEW.sort_name IS NOT {_SQLITE_EXPECTED_SORT_NAME}
    BEGIN
        UPDATE portal_accounts SET sort_name = {_SQLITE_EXPECTED_SORT_NAME} WHERE id = NEW.id;
    END"""


SQLITE_SORT_NAME_TRIGGERS = [
    _sqlite_fix_sort_name("portal_accounts_sort_name_insert", "INSERT"),
    _sqlite_fix_sort_name("portal_accounts_sort_name_update", "UPDATE OF patient_id, sort_name"),
    f"""CREATE TRIGGER patients_sort_name_update AFTER UPDATE OF first_name, last_name ON patients
    WHEN OLD.first_name IS NOT NEW.first_name OR OLD.last_name IS NOT NEW.last_name
    BEGIN
        UPDATE portal_accounts
           SET sort_name = {sort_name("sqlite", "NEW.first_name", "NEW.last_name")}
         WHERE patient_id = NEW.id;
    END""",
]
POSTGRESQL_SORT_NAME_TRIGGERS = [
    f"""CREATE FUNCTION portal_accounts_set_sort_name() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        SELECT {sort_name("postgresql", "p.first_name", "p.last_name")} INTO NEW.sort_name
          FROM patients AS p WHERE p.id = NEW.patient_id;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER portal_accounts_sort_name
    BEFORE INSERT OR UPDATE OF patient_id, sort_name ON portal_accounts
    FOR EACH ROW EXECUTE FUNCTION portal_accounts_set_sort_name()""",
    f"""CREATE FUNCTION patients_refresh_sort_name() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE portal_accounts
           SET sort_name = {sort_name("postgresql", "NEW.first_name", "NEW.last_name")}
         WHERE patient_id = NEW.id;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER patients_sort_name
    AFTER UPDATE OF first_name, last_name ON patients
    FOR EACH ROW WHEN (OLD.first_name IS DISTINCT FROM NEW.first_name
                       OR OLD.last_name IS DISTINCT FROM NEW.last_name)
    EXECUTE FUNCTION patients_refresh_sort_name()""",
]
SORT_NAME_TRIGGERS = {
    "sqlite": SQLITE_SORT_NAME_TRIGGERS,
    "postgresql": POSTGRESQL_SORT_NAME_TRIGGERS,
}
DROP_SORT_NAME_TRIGGERS = {
    "sqlite": [
        "DROP TRIGGER patients_sort_name_update",
        "DROP TRIGGER portal_accounts_sort_name_update",
        "DROP TRIGGER portal_accounts_sort_name_insert",
    ],
    "postgresql": [
        "DROP TRIGGER patients_sort_name ON patients",
        "DROP FUNCTION patients_refresh_sort_name()",
        "DROP TRIGGER portal_accounts_sort_name ON portal_accounts",
        "DROP FUNCTION portal_accounts_set_sort_name()",
    ],
}


def search_text(account: str, patient: str) -> str:
    """SQL for what the search box looks in, for ``account`` held by ``patient`` (two table
    aliases or NEW/OLD): the five fields the plain search compares, lower-cased as it lower-
    cases them, one space apart. A search word never holds a space, so it can only be found
    inside one field."""
    return (
        f"lower({patient}.first_name) || ' ' || lower({patient}.last_name) || ' ' || "
        f"lower(coalesce({account}.email_key, '')) || ' ' || lower({account}.username_key) "
        f"|| ' ' || lower({patient}.mrn)"
    )


# External content: the FTS5 index reads its rows from account_search_text, so a row is
# removed from the index with the very text it was indexed with, and 'rebuild' and
# 'integrity-check' work. columnsize=0: no ranking, so no per-row sizes to store.
SEARCH_TABLES = [
    "CREATE TABLE account_search_text (id INTEGER PRIMARY KEY, text TEXT NOT NULL)",
    """CREATE VIRTUAL TABLE account_search USING fts5(
        text, content='account_search_text', content_rowid='id',
        tokenize='trigram case_sensitive 1', columnsize=0)""",
    # Bulk loads (a migration, the demo clinic) flush and merge index segments less often:
    # a million accounts are indexed in 7 s instead of 12 s; searches stay as fast.
    "INSERT INTO account_search(account_search, rank) VALUES ('hashsize', 16777216)",
    "INSERT INTO account_search(account_search, rank) VALUES ('automerge', 16)",
    "INSERT INTO account_search(account_search, rank) VALUES ('crisismerge', 64)",
]
SEARCH_FILL = [
    f"""INSERT INTO account_search_text (id, text)
    SELECT a.id, {search_text("a", "p")}
      FROM portal_accounts AS a JOIN patients AS p ON p.id = a.patient_id""",
    "INSERT INTO account_search(account_search) VALUES ('rebuild')",
]
SEARCH_TRIGGERS = [
    """CREATE TRIGGER account_search_text_insert AFTER INSERT ON account_search_text
    BEGIN
        INSERT INTO account_search (rowid, text) VALUES (NEW.id, NEW.text);
    END""",
    """CREATE TRIGGER account_search_text_delete AFTER DELETE ON account_search_text
    BEGIN
        INSERT INTO account_search (account_search, rowid, text)
        VALUES ('delete', OLD.id, OLD.text);
    END""",
    """CREATE TRIGGER account_search_text_update AFTER UPDATE ON account_search_text
    BEGIN
        INSERT INTO account_search (account_search, rowid, text)
        VALUES ('delete', OLD.id, OLD.text);
        INSERT INTO account_search (rowid, text) VALUES (NEW.id, NEW.text);
    END""",
    f"""CREATE TRIGGER portal_accounts_search_insert AFTER INSERT ON portal_accounts
    BEGIN
        INSERT INTO account_search_text (id, text)
        SELECT NEW.id, {search_text("NEW", "p")} FROM patients AS p WHERE p.id = NEW.patient_id;
    END""",
    f"""CREATE TRIGGER portal_accounts_search_update
    AFTER UPDATE OF id, patient_id, email_key, username_key ON portal_accounts
    WHEN OLD.id IS NOT NEW.id OR OLD.patient_id IS NOT NEW.patient_id
      OR OLD.email_key IS NOT NEW.email_key OR OLD.username_key IS NOT NEW.username_key
    BEGIN
        DELETE FROM account_search_text WHERE id = OLD.id;
        INSERT INTO account_search_text (id, text)
        SELECT NEW.id, {search_text("NEW", "p")} FROM patients AS p WHERE p.id = NEW.patient_id;
    END""",
    """CREATE TRIGGER portal_accounts_search_delete AFTER DELETE ON portal_accounts
    BEGIN
        DELETE FROM account_search_text WHERE id = OLD.id;
    END""",
    f"""CREATE TRIGGER patients_search_update AFTER UPDATE OF first_name, last_name, mrn ON patients
    WHEN OLD.first_name IS NOT NEW.first_name OR OLD.last_name IS NOT NEW.last_name
      OR OLD.mrn IS NOT NEW.mrn
    BEGIN
        UPDATE account_search_text
           SET text = (SELECT {search_text("a", "NEW")} FROM portal_accounts AS a
                       WHERE a.id = account_search_text.id)
         WHERE id IN (SELECT id FROM portal_accounts WHERE patient_id = NEW.id);
    END""",
]
SEARCH_TRIGGER_NAMES = [
    "patients_search_update",
    "portal_accounts_search_delete",
    "portal_accounts_search_update",
    "portal_accounts_search_insert",
    "account_search_text_update",
    "account_search_text_delete",
    "account_search_text_insert",
]


#: (name, columns) of the indexes this revision adds: windows of the list in every order
#: but the chart's, with the filters, from an index alone.
LIST_INDEXES = [
    ("ix_portal_accounts_sort_name_id", ["sort_name", "id"]),
    ("ix_portal_accounts_state_sort_name_id", ["state", "sort_name", "id"]),
    ("ix_portal_accounts_shared_email_sort_name_id", ["shared_email", "sort_name", "id"]),
    ("ix_portal_accounts_shared_email_id", ["shared_email", "id"]),
    ("ix_portal_accounts_last_login_at", ["last_login_at"]),
]
#: The clusters' index of the first revision, and the one that replaces it (covering: the
#: clusters are read from the index alone).
OLD_CLUSTERS_INDEX = ("ix_portal_accounts_shared_email_email_key", ["shared_email", "email_key"])
CLUSTERS_INDEX = (
    "ix_portal_accounts_shared_email_email_key_username",
    ["shared_email", "email_key", "username"],
)


def sqlite_has_trigram() -> bool:
    """Whether this SQLite has FTS5 with the trigram tokenizer (3.34 or later)."""
    try:
        op.execute("CREATE VIRTUAL TABLE temp.trigram_probe USING fts5(x, tokenize='trigram')")
    except sa.exc.OperationalError:
        return False
    op.execute("DROP TABLE temp.trigram_probe")
    return True


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column(
        "portal_accounts",
        sa.Column("sort_name", sa.String(length=201), server_default=sa.text("''"), nullable=False),
    )
    if dialect == "sqlite":
        op.execute(
            f"UPDATE portal_accounts SET sort_name = (SELECT {SQLITE_SORT_NAME} "
            "FROM patients AS p WHERE p.id = portal_accounts.patient_id)"
        )
    else:
        op.execute(
            f"UPDATE portal_accounts AS a SET sort_name = "
            f"{sort_name('postgresql', 'p.first_name', 'p.last_name')} "
            "FROM patients AS p WHERE p.id = a.patient_id"
        )
    for statement in SORT_NAME_TRIGGERS[dialect]:
        op.execute(statement)

    for name, columns in [*LIST_INDEXES, CLUSTERS_INDEX]:
        op.create_index(name, "portal_accounts", columns)
    op.drop_index(OLD_CLUSTERS_INDEX[0], "portal_accounts")

    if dialect == "sqlite" and sqlite_has_trigram():
        for statement in (*SEARCH_TABLES, *SEARCH_FILL, *SEARCH_TRIGGERS):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SEARCH_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS account_search")
        op.execute("DROP TABLE IF EXISTS account_search_text")
    for statement in DROP_SORT_NAME_TRIGGERS[dialect]:
        op.execute(statement)
    op.create_index(OLD_CLUSTERS_INDEX[0], "portal_accounts", OLD_CLUSTERS_INDEX[1])
    for name, _ in [CLUSTERS_INDEX, *LIST_INDEXES]:
        op.drop_index(name, "portal_accounts")
    # Not batch mode: on SQLite that copies the table, and the copy would lose the
    # shared-e-mail triggers of the first revision.
    op.execute("ALTER TABLE portal_accounts DROP COLUMN sort_name")
