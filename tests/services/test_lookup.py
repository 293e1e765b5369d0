"""Finding what a person typed (an id, a username, an MRN) and explaining an account:
any text at all is an answer or a clear "not found", never a crash."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from console.models.database import Database
from console.services.accounts.lookup import (
    NotFound,
    explain_account,
    find_account_id,
    find_patient_id,
)
from console.services.workstation import Workstation
from tests.factories import add_account, add_patient
from tests.services.conftest import NOW

#: Every code point, lone surrogates included (a badly decoded argument or pasted text).
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40) | st.from_regex(
    r"\A[0-9]{15,40}\Z"
)


@pytest.fixture
def ids(desk: Workstation) -> tuple[int, int, int]:
    """Account 'Jane', a second account on the same address whose username is Jane's id,
    and Jane's chart."""
    with Session(desk.database.writer) as session, session.begin():
        jane = add_account(session, "family@example.org", username="Jane")
        digits = add_account(session, "family@example.org", username=str(jane.id))
        add_patient(session, mrn="MRN-7")
        return jane.id, digits.id, jane.patient_id


def test_an_id_comes_before_a_username_of_digits(
    desk: Workstation, ids: tuple[int, int, int]
) -> None:
    jane, _, _ = ids
    with desk.database.engine.connect() as connection:
        assert find_account_id(connection, f" {jane} ") == jane
        assert find_account_id(connection, "JANE") == jane
        assert find_patient_id(connection, " MRN-7 ") > 0
        with pytest.raises(NotFound, match="No portal account has the id or username '99999'"):
            find_account_id(connection, "99999")


def test_explain_names_the_cluster_and_the_fix(
    desk: Workstation, ids: tuple[int, int, int]
) -> None:
    jane, _, _ = ids
    found = explain_account(desk.database, "jane", now=NOW)
    assert found.shares_email_with == (str(jane),)
    assert "create a new Patient Portal account" in found.view.message
    assert found.view.suggested_fix and "Revoke" in found.view.suggested_fix


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=ANY_TEXT)
def test_any_text_finds_something_or_says_not_found(database: Database, text: str) -> None:
    with database.engine.connect() as connection:
        for find in (find_account_id, find_patient_id):
            with pytest.raises(NotFound):
                find(connection, text)
