"""The shared-e-mail worklist's tree model: Qt's conformance checker, and resolved clusters
leaving without a reset (issue 6, point 4)."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from console.adapters.cluster_tree import ClusterColumn, ClusterRoles, ClusterTreeModel
from console.models.worklist import ClusterAccount, ClusterCase
from console.services.accounts.worklist import propose_resolution
from tests.adapters.model_check import CheckModel

TODAY = dt.date(2026, 3, 2)
_ids = iter(range(1, 10_000))


def person(first: str, last: str, born: dt.date, email: str) -> ClusterAccount:
    n = next(_ids)
    age = TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))
    return ClusterAccount(
        account_id=n,
        username=f"{first}.{last}".lower(),
        login_email=email,
        patient_id=1000 + n,
        mrn=f"MRN{n:05d}",
        first_name=first,
        last_name=last,
        birth_date=born,
        age=age,
        state="legacy",
        message_count=2,
        intake_form_count=1,
    )


def case(email: str, *people: tuple[str, str, dt.date]) -> ClusterCase:
    accounts = tuple(person(first, last, born, email) for first, last, born in people)
    return ClusterCase(email, email, accounts, propose_resolution(accounts))


@pytest.fixture
def cases() -> list[ClusterCase]:
    return [
        case(
            "hopper@example.com",
            ("Grace", "Hopper", dt.date(1976, 12, 9)),
            ("Walter", "Hopper", dt.date(2012, 5, 1)),
            ("Alan", "Hopper", dt.date(1990, 6, 23)),
        ),
        case(
            "kids@example.net",
            ("Ada", "Lovelace", dt.date(2011, 12, 10)),
            ("Byron", "Lovelace", dt.date(2014, 1, 16)),
        ),
        case(
            "turing@example.org",
            ("Alan", "Turing", dt.date(1982, 6, 23)),
            ("Sara", "Turing", dt.date(1985, 1, 2)),
        ),
    ]


@pytest.fixture
def model(check_model: CheckModel, cases: list[ClusterCase]) -> ClusterTreeModel:
    """A model over ``cases``, one row per shared address, that passed Qt's model tester
    (which keeps watching it)."""
    tree = ClusterTreeModel()
    tree.load(cases)
    check_model(
        tree,
        [
            (
                "hopper@example.com",
                "3 accounts — Grace Hopper (49), Alan Hopper (35), Walter Hopper (13)",
                "",
                "",
                "Keep 1 · Link to guardian 1 · Re-invite 1",
            ),
            (
                "kids@example.net",
                "2 accounts — Ada Lovelace (14), Byron Lovelace (12)",
                "",
                "",
                "Keep 1 · Re-invite 1",
            ),
            (
                "turing@example.org",
                "2 accounts — Alan Turing (43), Sara Turing (41)",
                "",
                "",
                "Keep 1 · Re-invite 1",
            ),
        ],
    )
    return tree


#: An account row's columns but its proposed step (a sentence, checked on its own).
PERSON = [ClusterColumn.ADDRESS, ClusterColumn.WHO, ClusterColumn.AGE, ClusterColumn.STATE]


def test_clusters_and_their_accounts(check_model: CheckModel, model: ClusterTreeModel) -> None:
    hopper = model.index(0, 0)
    check_model(
        model,
        [
            ("grace.hopper", "Grace Hopper", "49", "Legacy"),
            ("walter.hopper", "Walter Hopper", "13 (minor)", "Legacy"),
            ("alan.hopper", "Alan Hopper", "35", "Legacy"),
        ],
        columns=PERSON,
        parent=hopper,
    )
    walter = model.index(1, ClusterColumn.STEP, hopper)
    assert walter.data().startswith("Link Walter Hopper (age 13) to Grace Hopper's account")
    assert walter.data(ClusterRoles.STEP_KIND) == "link_to_guardian"
    assert isinstance(walter.data(ClusterRoles.ACCOUNT_ID), int)
    assert isinstance(walter.data(ClusterRoles.PATIENT_ID), int)
    assert model.index(0, 0).data(ClusterRoles.ACCOUNT_ID) is None
    assert model.parent(walter) == hopper
    assert model.flags(walter) & Qt.ItemFlag.ItemNeverHasChildren
    assert model.account_count == 7


def test_remove_resolved_takes_out_only_those_rows(
    qtbot: QtBot, check_model: CheckModel, model: ClusterTreeModel
) -> None:
    turing_child = model.index(0, 0, model.index(2, 0)).data(ClusterRoles.ACCOUNT_ID)
    resets: list[None] = []
    model.modelReset.connect(lambda: resets.append(None))
    with qtbot.waitSignal(model.rowsRemoved) as removed:
        assert model.remove_resolved({"kids@example.net", "nowhere@example.com"}) == 1
    assert removed.args[1:] == [1, 1]
    assert not resets
    check_model(
        model, [("hopper@example.com",), ("turing@example.org",)], columns=[ClusterColumn.ADDRESS]
    )
    # Account rows below the removed cluster still find their (moved) parent.
    turing = model.index(1, 0)
    assert model.parent(model.index(0, 0, turing)) == turing
    assert model.index(0, 0, turing).data(ClusterRoles.ACCOUNT_ID) == turing_child
    assert model.remove_resolved({"hopper@example.com", "turing@example.org"}) == 2
    assert model.rowCount() == 0


def test_replace_cluster_keeps_the_row(
    check_model: CheckModel, model: ClusterTreeModel, cases: list[ClusterCase]
) -> None:
    smaller = ClusterCase(
        cases[0].email_key,
        cases[0].address,
        cases[0].accounts[:2],
        propose_resolution(cases[0].accounts[:2]),
    )
    assert model.replace_cluster(smaller)
    check_model(
        model,
        [
            ("hopper@example.com", "2 accounts — Grace Hopper (49), Walter Hopper (13)"),
            ("kids@example.net", "2 accounts — Ada Lovelace (14), Byron Lovelace (12)"),
            ("turing@example.org", "2 accounts — Alan Turing (43), Sara Turing (41)"),
        ],
        columns=[ClusterColumn.ADDRESS, ClusterColumn.WHO],
    )
    check_model(
        model,
        [("grace.hopper",), ("walter.hopper",)],
        columns=[ClusterColumn.ADDRESS],
        parent=model.index(0, 0),
    )
    assert not model.replace_cluster(case("gone@example.com"))


def test_load_replaces_everything(model: ClusterTreeModel, cases: list[ClusterCase]) -> None:
    model.load(cases[:1])
    assert model.rowCount() == 1
    model.load([])
    assert model.rowCount() == 0 and model.account_count == 0
