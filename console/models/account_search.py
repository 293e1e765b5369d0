"""The search box's words, and how the SQLite trigram index finds them.

What a search means never depends on the index: every whitespace-separated word must be
contained, case-insensitively, in the first name, last name, login e-mail key, username key or
MRN of the account's holder, with ``%`` and ``_`` taken literally. ``like_conditions`` says so
in SQL that every backend runs (PostgreSQL always does: its trigram index, pg_trgm, is an
extension that a clinic's server may not allow).

On SQLite, migration 0002 also keeps ``account_search_text`` (one row per account: those five
fields lower-cased as SQLite's ``lower()`` does, one space apart) and ``account_search``, an
FTS5 trigram index of it. A ``SearchPlan`` finds the same accounts through them without reading
every row: words of three characters or more through the index, shorter ones by reading the
narrow text table, which is still ten times less than reading the accounts with their charts.

Why the index finds exactly the rows of the LIKE conditions: SQLite's ``lower()`` and the case
blindness of its ``LIKE`` both touch ASCII letters only, and the key columns are compared with
the word's ``casefold()``. So a word matches a name or the MRN when that field, lower-cased,
holds ``ascii_lower(word)``, and a key when it holds ``ascii_lower(word.casefold())``. When the
two spellings agree (always, for an ASCII word), the word matches an account exactly when the
account's text holds that spelling: a word holds no space, so it cannot straddle two fields.
A word whose spellings differ is looked up under both, which finds a few accounts too many,
and the LIKE conditions then have the last word (``SearchPlan.recheck``).

An e-mail fragment that goes on past the "@" ("1953@examp") is looked up by its part up to the
"@" only, and the whole word is then looked for in the text of the accounts found: the domain
is shared by most addresses of a clinic, and its trigrams would make the index read nearly
every account (25 ms at a million, against 3). An account whose text holds the word holds
that part too, so the same accounts are found.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Select, column, or_, select, table, text

from console.models.schema import Patient, PortalAccount, ascii_lower

#: The trigram index and the text it indexes: SQLite only, outside the ORM models.
SEARCH_INDEX = "account_search"
SEARCH_TEXT = "account_search_text"
#: FTS5's trigram tokenizer finds pieces of three characters or more.
TRIGRAM = 3

search_index = table(SEARCH_INDEX, column("rowid"), column(SEARCH_INDEX))
search_text = table(SEARCH_TEXT, column("id"), column("text"))


def is_search_index_table(name: str | None) -> bool:
    """Whether ``name`` is a table of the search index (the FTS5 table, its shadow tables,
    the text it indexes), which the ORM models do not describe."""
    return name is not None and (name == SEARCH_INDEX or name.startswith(f"{SEARCH_INDEX}_"))


def in_models(name: str | None, type_: str, _parent_names: object) -> bool:
    """Alembic's ``include_name``: compare everything with the models but the search index's
    tables, which migration 0002 alone makes (and only on SQLite)."""
    return not (type_ == "table" and is_search_index_table(name))


def has_search_index(connection: Connection) -> bool:
    """Whether this database has the trigram search index: SQLite whose FTS5 had the trigram
    tokenizer (3.34 or later) when migration 0002 ran."""
    if connection.dialect.name != "sqlite":
        return False
    found = connection.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": SEARCH_INDEX},
    ).first()
    return found is not None


def like_conditions(word: str) -> ColumnElement[bool]:
    """What one search word means, on any backend (over accounts joined with their charts)."""
    # The tables' columns, not the ORM attributes, as in ``account_list``.
    account, chart = PortalAccount.__table__.c, Patient.__table__.c
    folded = word.casefold()
    return or_(
        chart.last_name.icontains(word, autoescape=True),
        chart.first_name.icontains(word, autoescape=True),
        account.email_key.contains(folded, autoescape=True),
        account.username_key.contains(folded, autoescape=True),
        chart.mrn.icontains(word, autoescape=True),
    )


def _spellings(word: str) -> tuple[str, ...]:
    """How ``word`` stands in an account's indexed text: as the names and the MRN hold it,
    and as the keys hold it (once when both agree)."""
    in_names = ascii_lower(word)
    in_keys = ascii_lower(word.casefold())
    return (in_names,) if in_names == in_keys else (in_names, in_keys)


def _before_domain(word: str) -> str | None:
    """The part of ``word`` up to and with its "@", when something follows the "@" and that
    part is long enough for the index; else None."""
    at = word.find("@")
    if at < 0 or at == len(word) - 1:
        return None
    head = word[: at + 1]
    return head if min(map(len, _spellings(head))) >= TRIGRAM else None


def _phrase(spelling: str) -> str:
    """An FTS5 string: everything inside double quotes is literal, quotes are doubled."""
    return '"' + spelling.replace('"', '""') + '"'


def _held(spellings: tuple[str, ...]) -> ColumnElement[bool]:
    # LIKE rather than instr(): quicker. The text holds no upper-case ASCII letter and the
    # spellings neither, so LIKE's blindness to ASCII case changes nothing.
    return or_(*(search_text.c.text.contains(spelling, autoescape=True) for spelling in spellings))


@dataclass(frozen=True)
class SearchPlan:
    """How the index answers the words of a search.

    ``indexed``: the spellings of each word of three characters or more, found through
    ``account_search``; ``pieces``: those of the shorter words, looked for in
    ``account_search_text``; ``recheck``: words for which that finds too many accounts (two
    spellings, or a NUL, which ends a LIKE pattern) and whose LIKE conditions must be added.
    A word that goes on past an "@" is found by its part up to the "@" (in ``indexed``)
    and looked for whole in the text (in ``pieces``).
    """

    indexed: tuple[tuple[str, ...], ...]
    pieces: tuple[tuple[str, ...], ...]
    recheck: tuple[str, ...]

    @classmethod
    def of(cls, words: list[str]) -> SearchPlan:
        """The plan for ``words`` (at least one)."""
        indexed: list[tuple[str, ...]] = []
        pieces: list[tuple[str, ...]] = []
        recheck: list[str] = []
        for word in words:
            if "\x00" in word:
                recheck.append(word)
                continue
            spellings = _spellings(word)
            if len(spellings) > 1:
                recheck.append(word)
            head = _before_domain(word)
            if head is not None:
                indexed.append(_spellings(head))
                pieces.append(spellings)
            elif min(len(spelling) for spelling in spellings) >= TRIGRAM:
                indexed.append(spellings)
            else:
                pieces.append(spellings)
        return cls(tuple(indexed), tuple(pieces), tuple(recheck))

    @property
    def fts_query(self) -> str | None:
        """The FTS5 MATCH expression of the indexed words, or None when there are none."""
        if not self.indexed:
            return None
        return " AND ".join(
            "(" + " OR ".join(_phrase(s) for s in spellings) + ")"
            if len(spellings) > 1
            else _phrase(spellings[0])
            for spellings in self.indexed
        )

    def candidates(self) -> Select[tuple[int]]:
        """The ids of the accounts whose text holds every word: through the index when some
        word is long enough, else by reading the text table. Exact unless ``recheck``."""
        query = self.fts_query
        if query is None:
            return select(search_text.c.id).where(*map(_held, self.pieces))
        statement = select(search_index.c.rowid.label("id")).where(
            search_index.c[SEARCH_INDEX].match(query)
        )
        if self.pieces:
            statement = statement.join(search_text, search_text.c.id == search_index.c.rowid).where(
                *map(_held, self.pieces)
            )
        return statement

    def held_by_text(self) -> list[ColumnElement[bool]]:
        """The same test as ``candidates``, one ``account_search_text`` row at a time: for
        reading a list in its order and keeping the rows that match."""
        return [_held(spellings) for spellings in (*self.indexed, *self.pieces)]
