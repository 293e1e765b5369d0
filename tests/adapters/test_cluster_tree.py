"""The shared-e-mail worklist's tree model: Qt's conformance checker, and resolved clusters
leaving without a reset (issue 6, point 4)."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from console.adapters.cluster_tree import ClusterColumn, ClusterRoles, ClusterTreeModel
from console.services.worklist import ClusterAccount, ClusterCase, propose_resolution

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
def model(qtmodeltester: ModelTester, cases: list[ClusterCase]) -> ClusterTreeModel:
    """A model over ``cases`` that passed Qt's model tester (which keeps watching it)."""
    tree = ClusterTreeModel()
    tree.load(cases)
    qtmodeltester.check(tree, force_py=True)
    return tree


def texts(model: ClusterTreeModel, parent: QModelIndex) -> list[str]:
    return [model.index(row, 0, parent).data() for row in range(model.rowCount(parent))]


def test_clusters_and_their_accounts(model: ClusterTreeModel) -> None:
    assert texts(model, QModelIndex()) == [
        "hopper@example.com",
        "kids@example.net",
        "turing@example.org",
    ]
    hopper = model.index(0, 0)
    assert model.index(0, ClusterColumn.WHO).data() == (
        "3 accounts — Grace Hopper (49), Alan Hopper (35), Walter Hopper (13)"
    )
    assert model.index(0, ClusterColumn.STEP).data() == "Keep 1 · Link to guardian 1 · Re-invite 1"
    assert texts(model, hopper) == ["grace.hopper", "walter.hopper", "alan.hopper"]
    walter = model.index(1, ClusterColumn.STEP, hopper)
    assert walter.data().startswith("Link Walter Hopper (age 13) to Grace Hopper's account")
    assert walter.data(ClusterRoles.STEP_KIND) == "link_to_guardian"
    assert isinstance(walter.data(ClusterRoles.ACCOUNT_ID), int)
    assert isinstance(walter.data(ClusterRoles.PATIENT_ID), int)
    assert model.index(1, ClusterColumn.AGE, hopper).data() == "13 (minor)"
    assert model.index(1, ClusterColumn.STATE, hopper).data() == "Legacy"
    assert model.index(0, 0).data(ClusterRoles.ACCOUNT_ID) is None
    assert model.parent(walter) == hopper
    assert model.flags(walter) & Qt.ItemFlag.ItemNeverHasChildren
    assert model.account_count == 7


def test_remove_resolved_takes_out_only_those_rows(qtbot: QtBot, model: ClusterTreeModel) -> None:
    turing_child = model.index(0, 0, model.index(2, 0)).data(ClusterRoles.ACCOUNT_ID)
    resets: list[None] = []
    model.modelReset.connect(lambda: resets.append(None))
    with qtbot.waitSignal(model.rowsRemoved) as removed:
        assert model.remove_resolved({"kids@example.net", "nowhere@example.com"}) == 1
    assert removed.args[1:] == [1, 1]
    assert not resets
    assert texts(model, QModelIndex()) == ["hopper@example.com", "turing@example.org"]
    # Account rows below the removed cluster still find their (moved) parent.
    turing = model.index(1, 0)
    assert model.parent(model.index(0, 0, turing)) == turing
    assert model.index(0, 0, turing).data(ClusterRoles.ACCOUNT_ID) == turing_child
    assert model.remove_resolved({"hopper@example.com", "turing@example.org"}) == 2
    assert model.rowCount() == 0


def test_replace_cluster_keeps_the_row(model: ClusterTreeModel, cases: list[ClusterCase]) -> None:
    smaller = ClusterCase(
        cases[0].email_key,
        cases[0].address,
        cases[0].accounts[:2],
        propose_resolution(cases[0].accounts[:2]),
    )
    assert model.replace_cluster(smaller)
    assert model.rowCount(model.index(0, 0)) == 2
    assert model.index(0, ClusterColumn.WHO).data().startswith("2 accounts")
    assert not model.replace_cluster(case("gone@example.com"))


def test_load_replaces_everything(model: ClusterTreeModel, cases: list[ClusterCase]) -> None:
    model.load(cases[:1])
    assert model.rowCount() == 1
    model.load([])
    assert model.rowCount() == 0 and model.account_count == 0
