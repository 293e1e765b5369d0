"""``ServiceCalls``: a dialog's service calls, answered once each, a refusal passed on as it
is, an unexpected failure turned into a message (and a log line), and nothing delivered
after ``cancel()``. A stand-in runner runs or holds the work, without threads."""

from __future__ import annotations

import logging

import pytest

from console.models.database_trouble import DatabaseBusy
from console.services.errors import DomainError
from console.workers.service_calls import ServiceCalls
from tests.runners import HeldRunner, InlineRunner


def test_an_unexpected_failure_becomes_a_message_and_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = ServiceCalls(InlineRunner())
    refused: list[DomainError] = []

    def broken() -> None:
        raise KeyError("column")

    with caplog.at_level(logging.ERROR, logger="console.workers.service_calls"):
        calls.run("Saving the settings", broken, lambda _: None, refused.append)
    assert refused[0].message.startswith("Saving the settings failed unexpectedly (KeyError)")
    assert "Saving the settings failed unexpectedly" in caplog.text
    assert not calls.busy


def test_a_refusal_is_passed_on_as_it_is(caplog: pytest.LogCaptureFixture) -> None:
    calls = ServiceCalls(InlineRunner())
    rule = DomainError("That e-mail address is taken.")
    refused: list[DomainError] = []

    def refuse() -> None:
        raise rule

    with caplog.at_level(logging.ERROR, logger="console.workers.service_calls"):
        calls.run("Saving the settings", refuse, lambda _: None, refused.append)
    assert refused == [rule]
    assert caplog.text == ""


def test_a_database_in_trouble_is_passed_on_in_its_own_words() -> None:
    calls = ServiceCalls(InlineRunner())
    refused: list[DomainError] = []
    sentence = "Another workstation has been writing to clinic.db for more than 5 seconds."

    def wait_too_long() -> None:
        raise DatabaseBusy(sentence)

    calls.run("Revoking access", wait_too_long, lambda _: None, refused.append)
    assert [error.message for error in refused] == [sentence]


def test_busy_until_the_answer_and_nothing_after_cancel() -> None:
    runner = HeldRunner()
    calls = ServiceCalls(runner)
    answers: list[int] = []
    calls.run("Counting", lambda: 1, answers.append, lambda _: None)
    assert calls.busy and answers == []
    runner.run_all()
    assert answers == [1] and not calls.busy

    calls.run("Counting", lambda: 2, answers.append, lambda _: None)
    calls.cancel()
    assert not calls.busy
    runner.run_all()
    assert answers == [1]
