"""The one rule of what an action dialog's form allows, driven without a display."""

from __future__ import annotations

from dataclasses import dataclass

from console.views.form_presenter import FormState


def test_nothing_is_allowed_before_the_subject_is_read() -> None:
    form = FormState.decide(loaded=False, loading=True, busy=False, still_needed="")
    assert form == FormState(
        loading=True,
        busy=False,
        editable=False,
        accept_enabled=False,
        cancel_enabled=True,
        still_needed="",
    )


def test_the_action_waits_for_what_is_still_needed_and_for_a_newer_reading() -> None:
    needed = FormState.decide(loaded=True, loading=False, busy=False, still_needed="Tick it.")
    assert needed.editable and not needed.accept_enabled
    rereading = FormState.decide(loaded=True, loading=True, busy=False, still_needed="")
    assert rereading.editable and not rereading.accept_enabled
    ready = FormState.decide(loaded=True, loading=False, busy=False, still_needed="")
    assert ready.accept_enabled and ready.cancel_enabled


def test_nothing_can_be_changed_or_cancelled_while_the_action_is_on_its_way() -> None:
    form = FormState.decide(loaded=True, loading=False, busy=True, still_needed="")
    assert not (form.editable or form.accept_enabled or form.cancel_enabled)


def test_a_dialogs_own_form_adds_its_fields() -> None:
    @dataclass(frozen=True)
    class NotedForm(FormState):
        note_required: bool

    form = NotedForm.decide(
        loaded=True, loading=False, busy=False, still_needed="", note_required=True
    )
    assert isinstance(form, NotedForm) and form.note_required and form.accept_enabled
