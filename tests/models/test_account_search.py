"""The search index (SQLite's trigram index, migration 0002) and the name sort key stay right
after every change, and a search through the index finds exactly what the plain LIKE
conditions find, whatever the names, addresses and words."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

import pytest
from alembic import command
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, event, insert, select, text
from sqlalchemy.orm import Session

from console.models import account_list
from console.models.account_list import (
    AccountFilter,
    AccountSort,
    SortKey,
    count_accounts,
    iter_account_rows,
)
from console.models.account_search import SearchPlan, has_search_index
from console.models.bulk_load import DEFERRED_INDEXES, deferred_upkeep
from console.models.database import Database, alembic_config, open_database
from console.models.email_key import email_key
from console.models.schema import Patient, PortalAccount, sort_name
from console.models.states import AccountState
from tests.factories import add_account, add_patient, change_row, sqlite_has_trigram

needs_trigram = pytest.mark.skipif(
    not sqlite_has_trigram(), reason="this SQLite has no FTS5 trigram tokenizer"
)


def ascii_lower(value: str) -> str:
    """SQLite's lower() (without ICU): ASCII letters only."""
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in value)


@pytest.fixture
def any_database(any_db_url: str) -> Iterator[Database]:
    database = open_database(any_db_url)
    yield database
    database.dispose()


# --- What the index holds --------------------------------------------------------------------


def expected_texts(connection: Connection) -> dict[int, str]:
    """Each account's searched fields, lower-cased as SQLite does, worked out in Python."""
    rows = connection.execute(
        select(
            PortalAccount.id,
            Patient.first_name,
            Patient.last_name,
            PortalAccount.email_key,
            PortalAccount.username_key,
            Patient.mrn,
        ).join(Patient, Patient.id == PortalAccount.patient_id)
    )
    return {
        account_id: " ".join(ascii_lower(v or "") for v in (first, last, key, user, mrn))
        for account_id, first, last, key, user, mrn in rows
    }


def check_sort_names(connection: Connection) -> None:
    rows = connection.execute(
        select(PortalAccount.sort_name, Patient.first_name, Patient.last_name).join(
            Patient, Patient.id == PortalAccount.patient_id
        )
    ).all()
    for stored, first, last in rows:
        assert stored == f"{ascii_lower(last)}\x1f{ascii_lower(first)}" == sort_name(first, last)


def check_search_index(connection: Connection) -> None:
    """The indexed text is the accounts' text, and the trigram index holds exactly the
    trigrams of that text: compared, position by position, with an index built afresh."""
    wanted = expected_texts(connection)
    stored = dict(connection.execute(text("SELECT id, text FROM account_search_text")).all())
    assert stored == wanted
    connection.exec_driver_sql(
        "CREATE VIRTUAL TABLE temp.fresh USING fts5(text, tokenize='trigram case_sensitive 1')"
    )
    try:
        for key, value in wanted.items():
            connection.execute(
                text("INSERT INTO temp.fresh (rowid, text) VALUES (:id, :text)"),
                {"id": key, "text": value},
            )
        vocabularies = []
        for schema, name in (("main", "account_search"), ("temp", "fresh")):
            connection.exec_driver_sql(
                f"CREATE VIRTUAL TABLE temp.vocab_{name} "
                f"USING fts5vocab({schema}, {name}, instance)"
            )
            vocabularies.append(
                connection.exec_driver_sql(
                    f"SELECT term, doc, offset FROM temp.vocab_{name} ORDER BY 1, 2, 3"
                ).all()
            )
        assert vocabularies[0] == vocabularies[1]
    finally:
        for name in ("vocab_account_search", "vocab_fresh", "fresh"):
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")


def search_both_ways(connection: Connection, account_filter: AccountFilter) -> None:
    """Count and windows (by id and by name, in small windows) agree with the LIKE path."""
    plain = count_accounts(connection, account_filter, search_index=False)
    assert count_accounts(connection, account_filter) == plain, account_filter
    for sort in (AccountSort(SortKey.ACCOUNT_ID), AccountSort(), AccountSort(SortKey.MRN)):
        every = list(iter_account_rows(connection, account_filter, sort, search_index=False))
        assert len(every) == plain
        assert list(iter_account_rows(connection, account_filter, sort)) == every
        windows = [
            row
            for offset in range(0, plain + 1, 3)
            for row in iter_account_rows(connection, account_filter, sort, offset, 3)
        ]
        assert windows == every, (account_filter, sort)


# --- A search through the index means what the LIKE conditions mean ---------------------------

#: Letters that tell the two case rules apart (ASCII-only lower() and LIKE, full casefold()
#: for the keys: long s, Kelvin sign, dotted and dotless i, Dz) and characters with a meaning
#: to LIKE or to FTS5's query syntax.
TRICKY = "aAbBsSzZ09 ._-@%/\"'*:()^+ßẞ\u017f\u212a\u0130\u0131Éé\u01c5😀"
texts = st.text(
    alphabet=st.sampled_from(TRICKY)
    | st.characters(exclude_characters="\x00", exclude_categories=("Cs",))
)


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    email: str | None
    username: str
    mrn: str
    state: AccountState


people = st.builds(
    Person,
    first=texts,
    last=texts,
    email=st.none() | texts,
    username=texts,
    mrn=texts,
    state=st.sampled_from(list(AccountState)),
)


def add_people(session: Session, people: list[Person]) -> None:
    for number, person in enumerate(people):
        patient = add_patient(
            session, first_name=person.first, last_name=person.last, mrn=f"{person.mrn}#{number}"
        )
        add_account(
            session,
            person.email,
            person.state,
            patient=patient,
            username=f"{person.username}~{number}",
        )
    session.commit()


def reset(database: Database) -> None:
    with database.write() as connection:
        connection.execute(text("DELETE FROM portal_accounts"))
        connection.execute(text("DELETE FROM patients"))


@st.composite
def searches(draw: st.DrawFn, population: list[Person]) -> str:
    """Words cut out of the stored values (in another case, now and then) or made up."""
    fields = [v for p in population for v in (p.first, p.last, p.email or "", p.username, p.mrn)]
    words = []
    for _ in range(draw(st.integers(1, 3))):
        if fields and draw(st.booleans()):
            field = draw(st.sampled_from(fields))
            start = draw(st.integers(0, len(field)))
            word = field[start : start + draw(st.integers(1, 6))]
            word = draw(st.sampled_from([str.upper, str.lower, str.casefold, str]))(word)
        else:
            word = draw(texts)
        words.append(word)
    return " ".join(words)


@needs_trigram
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(population=st.lists(people, min_size=1, max_size=8), data=st.data())
@example(
    population=[
        Person("Ann", "Strauß", "STRASSE@example.org", "\u017fmith", "M1", AccountState.LEGACY),
        Person("Émile", "van Dyk", None, "KELVIN", "m2", AccountState.MIGRATED),
        # Found by a search's other spelling, but not by its LIKE conditions: "ÉMILE" and
        # "Straße" as the keys would hold them are "émile" and "strasse".
        Person("émile", "Strasse", None, "x", "m3", AccountState.LEGACY),
    ],
    data=None,  # replaced by the searches below
)
def test_index_finds_what_like_finds(
    database: Database, population: list[Person], data: st.DataObject | None
) -> None:
    reset(database)
    with Session(database.writer) as session:
        add_people(session, population)
    fixed = ["straß", "Straße", "STRASSE", "smith", "kelvin", "émile", "ÉMILE", 'a"b', "%", "_"]
    fixed.append("m")
    fixed.append("a\x00b")  # only LIKE can say what a NUL does
    with database.engine.connect() as connection:
        assert has_search_index(connection)
        check_search_index(connection)
        for _ in range(3) if data is not None else ():
            search = data.draw(searches(population), label="search")
            state = data.draw(st.none() | st.sampled_from(list(AccountState)), label="state")
            search_both_ways(connection, AccountFilter(search=search, state=state))
        for search in fixed if data is None else ():
            search_both_ways(connection, AccountFilter(search=search))


def test_a_search_plan_sends_each_word_where_it_can_be_found() -> None:
    plan = SearchPlan.of(["Smith", "jo", 'a"b"c', "Straße", "x\x00y"])
    assert plan.fts_query == '"smith" AND "a""b""c" AND ("straße" OR "strasse")'
    assert plan.pieces == (("jo",),)
    assert plan.recheck == ("Straße", "x\x00y")  # two spellings; a NUL only LIKE judges


def test_an_address_is_looked_up_by_its_part_before_the_domain() -> None:
    plan = SearchPlan.of(["1953@Examp", "a@example", "smith@", "@example"])
    # The domain's trigrams are in nearly every account: the index reads only the part up
    # to the "@" (when that is long enough), the whole word is looked for in the text of
    # the accounts it finds.
    assert plan.fts_query == '"1953@" AND "a@example" AND "smith@" AND "@example"'
    assert plan.pieces == (("1953@examp",),)


# --- The index and the sort key follow every change -----------------------------------------


def rename(database: Database, patient_id: int, **fields: object) -> None:
    change_row(database, Patient, patient_id, **fields)


def change(database: Database, account_id: int, **fields: object) -> None:
    change_row(database, PortalAccount, account_id, **fields)


def check_everything(database: Database, searches: list[str]) -> None:
    with database.engine.connect() as connection:
        check_sort_names(connection)
        if has_search_index(connection):
            check_search_index(connection)
            for search in searches:
                search_both_ways(connection, AccountFilter(search=search))


def test_index_and_sort_key_follow_every_change(any_database: Database) -> None:
    database = any_database
    words = ["jane", "Smith", "zhou", "mrn-1", "mrn-9", "new@", "old@", "jd", "ross", "Ann"]
    with Session(database.writer) as session:
        jane = add_patient(session, first_name="Jane", last_name="Smith", mrn="MRN-1")
        ann = add_patient(session, first_name="Ann", last_name="Zhou", mrn="MRN-2")
        first = add_account(session, "old@example.org", patient=jane, username="JD")
        second = add_account(session, "jane@example.org", patient=jane, username="jane2")
        third = add_account(session, None, patient=ann, username="ann")
        session.commit()
        first_id, second_id, third_id = first.id, second.id, third.id
        jane_id, ann_id = jane.id, ann.id
    check_everything(database, words)

    change(database, first_id, login_email="NEW@example.org")
    check_everything(database, words)
    change(database, third_id, username="Ross")
    check_everything(database, words)
    rename(database, jane_id, last_name="van Dyk", first_name="Janet", mrn="MRN-9")
    check_everything(database, [*words, "dyk", "janet"])
    change(database, second_id, patient_id=ann_id)  # moved to another chart
    check_everything(database, [*words, "dyk"])
    with Session(database.writer) as session:
        session.delete(session.get_one(PortalAccount, first_id))
        session.commit()
    check_everything(database, [*words, "dyk"])
    with database.write() as connection:  # a bulk insert that knows nothing of either
        connection.execute(
            insert(PortalAccount).values(
                patient_id=jane_id,
                username="Bulk",
                username_key="bulk",
                login_email="bulk@example.org",
                email_key=email_key("bulk@example.org"),
                state=AccountState.LEGACY.value,
                security_stamp="s",
                failed_logins=0,
                message_count=0,
                intake_form_count=0,
                created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                version=1,
            )
        )
        # Nobody can set a wrong key for long.
        connection.execute(text("UPDATE portal_accounts SET sort_name = 'zzz'"))
    check_everything(database, [*words, "bulk"])


def test_names_sort_without_regard_to_case(any_database: Database) -> None:
    names = [("Li", "Zhou"), ("Piet", "van Dyk"), ("ann", "smith"), ("Bo", "Smith")]
    names.append(("Al", "Adams"))
    with Session(any_database.writer) as session:
        for first, last in names:
            patient = add_patient(session, first_name=first, last_name=last)
            add_account(session, None, patient=patient)
        session.commit()
    with any_database.engine.connect() as connection:
        rows = list(iter_account_rows(connection, AccountFilter(), AccountSort()))
    assert [row.patient_name for row in rows] == [
        "Al Adams",
        "ann smith",
        "Bo Smith",
        "Piet van Dyk",
        "Li Zhou",
    ]


# --- Upgrading a database that already holds accounts ---------------------------------------


def test_upgrading_fills_the_sort_key_and_the_index(any_database: Database) -> None:
    database = any_database
    with database.write() as connection:
        command.downgrade(alembic_config(connection), "0001")
        connection.execute(
            text(
                "INSERT INTO patients (id, mrn, first_name, last_name, birth_date, created_at, "
                "updated_at, version) VALUES (1, 'M1', 'Ada', 'Lovelace', '1815-12-10', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO portal_accounts (id, patient_id, username, username_key, "
                "login_email, email_key, state, security_stamp, failed_logins, message_count, "
                "intake_form_count, created_at, updated_at, version) VALUES (1, 1, 'Ada', 'ada', "
                "'Ada@Example.org', 'ada@example.org', 'legacy', 's', 0, 0, 0, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
            )
        )
    with database.write() as connection:
        command.upgrade(alembic_config(connection), "head")
    check_everything(database, ["lovelace", "ada@", "m1"])
    with database.engine.connect() as connection:
        assert count_accounts(connection, AccountFilter(search="LOVE")) == 1


# --- The plans SQLite picks at a million accounts stay the quick ones -----------------------


def statements_of(database: Database, call: Callable[[], object]) -> list[tuple[str, object]]:
    seen: list[tuple[str, object]] = []

    def record(_c: object, _cu: object, statement: str, parameters: object, *_: object) -> None:
        if statement.startswith("SELECT") and "sqlite_master" not in statement:
            seen.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    return seen


def plans_of(database: Database, call: Callable[[], object]) -> list[str]:
    lines = []
    with database.engine.connect() as connection:
        for statement, parameters in statements_of(database, call):
            for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters):
                lines.append(row[3])
    return lines


@needs_trigram
@pytest.mark.parametrize(
    "account_filter",
    [
        AccountFilter(),
        AccountFilter(state=AccountState.REVOKED),
        AccountFilter(shared_only=True),
        AccountFilter(search="smith"),
        AccountFilter(search="smith jo", state=AccountState.LEGACY),
        AccountFilter(search="jo"),
    ],
    ids=repr,
)
def test_no_window_or_count_reads_the_whole_table(
    database: Database, account_filter: AccountFilter
) -> None:
    with Session(database.writer) as session:
        for number in range(30):
            add_account(session, f"jo.smith{number}@example.org")
        session.commit()
    accounts = account_list.AccountList(database.engine)
    for sort in (AccountSort(), AccountSort(SortKey.USERNAME), AccountSort(SortKey.LAST_LOGIN)):
        for offset in (0, 20):
            lines = plans_of(database, partial(accounts.window, account_filter, sort, offset, 5))
            lines += plans_of(database, partial(accounts.count, account_filter))
            scans = [line for line in lines if line.startswith("SCAN")]
            # A scan is of an index (in the list's order), of the search's matches, or of
            # the narrow text table for a short word; never of the accounts or the charts.
            assert all(
                "COVERING INDEX" in line
                or "VIRTUAL TABLE" in line
                or line.startswith(("SCAN shown", "SCAN walked", "SCAN matches", "SCAN anon"))
                or (line == "SCAN account_search_text" and account_filter.search == "jo")
                for line in scans
            ), (account_filter, sort, lines)


# --- Both ways of finding a window of a search agree ----------------------------------------


@needs_trigram
@pytest.mark.parametrize("glance", [1, 3, 500])
def test_walking_the_list_and_sorting_the_matches_agree(
    database: Database, monkeypatch: pytest.MonkeyPatch, glance: int
) -> None:
    monkeypatch.setattr(account_list, "WALK_GLANCE", glance)
    monkeypatch.setattr(account_list, "WALK_MOST", 4 * glance)
    names = itertools.cycle(["Smith", "Jones", "smithson", "Adams", "Ng"])
    with Session(database.writer) as session:
        for number in range(40):
            patient = add_patient(session, first_name=f"P{number % 7}", last_name=next(names))
            add_account(session, f"u{number}@example.org", patient=patient)
        session.commit()
    with database.engine.connect() as connection:
        for search in ("smith", "example", "s", "ng", "P1 smith"):
            search_both_ways(connection, AccountFilter(search=search))


# --- Loading many accounts at once ---------------------------------------------------------


def schema_objects(connection: Connection) -> set[tuple[str, str, str]]:
    return set(connection.execute(text("SELECT type, name, sql FROM sqlite_master")).all())


def bulk_account(number: int, patient_id: int) -> dict[str, object]:
    """A row as a bulk loader writes it: plain values, no sort key."""
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return {
        "patient_id": patient_id,
        "username": f"Bulk{number}",
        "username_key": f"bulk{number}",
        "login_email": f"Bulk.{number}@Example.org",
        "email_key": email_key(f"Bulk.{number}@Example.org"),
        "state": AccountState.LEGACY.value,
        "security_stamp": "s",
        "failed_logins": 0,
        "message_count": 0,
        "intake_form_count": 0,
        "last_login_at": moment - dt.timedelta(days=number),
        "created_at": moment,
        "updated_at": moment,
        "version": 1,
    }


def test_deferred_upkeep_ends_with_everything_in_place(database: Database) -> None:
    with Session(database.writer) as session:
        patient = add_patient(session, first_name="Bea", last_name="Bulk")
        add_account(session, "before@example.org", patient=patient, username="before")
        session.commit()
        patient_id = patient.id
    with database.engine.connect() as connection:
        before = schema_objects(connection)

    with database.write() as connection, deferred_upkeep(connection):
        assert not {name for _, name, _ in schema_objects(connection)} & set(DEFERRED_INDEXES)
        connection.execute(insert(PortalAccount), [bulk_account(n, patient_id) for n in range(50)])

    with database.engine.connect() as connection:
        assert schema_objects(connection) == before
        assert count_accounts(connection, AccountFilter(search="bulk.4")) == 11  # 4, 40-49
    check_everything(database, ["bulk", "bulk.1", "before", "ea bu"])


def test_deferred_upkeep_undone_with_its_transaction(database: Database) -> None:
    with database.engine.connect() as connection:
        before = schema_objects(connection)
    with Session(database.writer) as session:
        patient_id = add_patient(session).id
        session.commit()
    with pytest.raises(RuntimeError), database.write() as connection, deferred_upkeep(connection):
        connection.execute(insert(PortalAccount), [bulk_account(1, patient_id)])
        raise RuntimeError("the loader was cancelled")
    with database.engine.connect() as connection:
        assert schema_objects(connection) == before
    check_everything(database, ["bulk"])


def test_deferred_upkeep_changes_nothing_on_postgresql(postgres_url: str) -> None:
    database = open_database(postgres_url)
    try:
        with Session(database.writer) as session:
            patient_id = add_patient(session, last_name="Bulk").id
            session.commit()
        with database.write() as connection, deferred_upkeep(connection):
            connection.execute(insert(PortalAccount), [bulk_account(1, patient_id)])
        check_everything(database, [])
    finally:
        database.dispose()
