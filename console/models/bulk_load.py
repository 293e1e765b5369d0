"""Writing a great many rows (the demo clinic, an import): one loader for both.

``insert_rows`` writes many rows per statement and, on PostgreSQL, moves a table's id
sequence past ids written explicitly (the demo's), so that the next action's insert does not
collide with them.

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

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select, text

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


def insert_rows(
    connection: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    key: str | None = None,
) -> dict[Any, int]:
    """Insert ``rows`` into ``table`` (one ``executemany``); with ``key``, a unique column,
    the id each row was given, by its value in that column (read back in one query: with
    RETURNING, SQLite would insert row by row to keep the order). Rows that carry their own
    ids move PostgreSQL's id sequence past them."""
    if not rows:
        return {}
    connection.execute(table.insert(), rows)
    if "id" in rows[0]:
        _move_id_sequence(connection, table)
    if key is None:
        return {}
    column = table.c[key]
    found = connection.execute(
        select(column, table.c.id).where(column.in_([row[key] for row in rows]))
    )
    return {value: row_id for value, row_id in found}


def _move_id_sequence(connection: Connection, table: Table) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"
            ),
            {"table": table.name},
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
