"""What the dialog tests share: a stand-in view that records what its presenter showed."""

from __future__ import annotations

from typing import Generic, TypeVar

FormT = TypeVar("FormT")


class FakeDialogView(Generic[FormT]):
    """A stand-in dialog: keeps the last form shown and counts the reloads asked for."""

    def __init__(self) -> None:
        self.form: FormT | None = None
        self.reloads = 0

    def show_form(self, form: FormT) -> None:
        self.form = form

    def record_changed(self) -> None:
        self.reloads += 1

    @property
    def current(self) -> FormT:
        assert self.form is not None
        return self.form
