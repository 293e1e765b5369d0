"""Writing a great many accounts in one transaction (the demo clinic, an import).

Every account written keeps the list's indexes and the search index right through triggers,
row by row, which is what a day at the front desk needs. Written by the hundred thousand,
that upkeep costs more than the rows: each list index takes a random insert per row, and
FTS5 writes what it has gathered to disk at the start of every statement that may need
undoing, which with row-at-a-time inserts (``executemany``) is every row. ``deferred_upkeep``
sets all that aside for the block and does it once at the end, by sorting (CREATE INDEX) and
by re-reading the text table (the index's 'rebuild'), in the same transaction: another
connection never sees an index missing, only the finished result at commit.

SQLite only; on PostgreSQL the block runs as usual (dropping an index there would lock the
table against every workstation for the whole load).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, bindparam, text

from console.models.account_search import SEARCH_INDEX, SEARCH_TEXT, has_search_index

#: Indexes that only speed up reading (no trigger looks anything up in them while rows are
#: added), whose keys arrive in random order. The e-mail key index is not among them: the
#: shared-e-mail triggers search it for every account added.
DEFERRED_INDEXES = (
    "ix_portal_accounts_sort_name_id",
    "ix_portal_accounts_state_sort_name_id",
    "ix_portal_accounts_shared_email_sort_name_id",
    "ix_portal_accounts_shared_email_id",
    "ix_portal_accounts_last_login_at",
    "ix_portal_accounts_shared_email_email_key_username",
    "ix_patients_last_name_first_name_id",
)


@contextmanager
def deferred_upkeep(connection: Connection) -> Iterator[None]:
    """Inside a write transaction on ``connection``: build the list's indexes and the search
    index once when the block ends, instead of row by row. Inside the block a search may
    miss the accounts written in it; everything is right again when it ends.

    When the block raises, nothing is rebuilt (that could take a while, for nothing): the
    transaction must then be rolled back, as ``Database.write()`` does, which also brings the
    indexes and triggers back."""
    if connection.dialect.name != "sqlite":
        yield
        return
    names = list(DEFERRED_INDEXES)
    if has_search_index(connection):
        names += [
            name
            for (name,) in connection.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
                {"t": SEARCH_TEXT},
            )
        ]
    saved = connection.execute(
        text("SELECT type, name, sql FROM sqlite_master WHERE name IN :names").bindparams(
            bindparam("names", expanding=True)
        ),
        {"names": names},
    ).all()
    for kind, name, _ in saved:
        connection.exec_driver_sql(f'DROP {kind.upper()} "{name}"')
    yield
    if any(kind == "trigger" for kind, _, _ in saved):
        rebuild = f"INSERT INTO {SEARCH_INDEX} ({SEARCH_INDEX}) VALUES ('rebuild')"
        connection.exec_driver_sql(rebuild)
    for _, _, sql in saved:
        connection.exec_driver_sql(sql)
