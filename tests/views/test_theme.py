"""The console's look: disabled controls read as disabled, spin boxes keep usable arrow
buttons at the text fields' height, and the state dots the tables show."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QSpinBox, QStyle, QStyleFactory, QStyleOptionSpinBox
from pytestqt.qtbot import QtBot

from console.models.states import InvitationState
from console.views.theme import (
    DISABLED_TEXT,
    ConsoleStyle,
    invitation_state_dots,
    light_palette,
    state_dot,
)


def test_disabled_text_is_grey_for_buttons_menus_and_fields() -> None:
    palette = light_palette()
    for role in (
        QPalette.ColorRole.ButtonText,  # push buttons, toolbar actions, the menu bar
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
    ):
        enabled = palette.color(QPalette.ColorGroup.Active, role)
        disabled = palette.color(QPalette.ColorGroup.Disabled, role)
        assert disabled == DISABLED_TEXT
        assert disabled != enabled
    assert palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Base) != QColor("#ffffff")


def test_spin_box_buttons_are_wider_than_fusions(qtbot: QtBot) -> None:
    fusion, console = QStyleFactory.create("Fusion"), ConsoleStyle()
    spin = QSpinBox()
    qtbot.addWidget(spin)
    spin.resize(150, 30)
    option = _option(spin)

    def rect(style: QStyle, sub: QStyle.SubControl) -> int:
        return style.subControlRect(QStyle.ComplexControl.CC_SpinBox, option, sub, spin).width()

    up, field = QStyle.SubControl.SC_SpinBoxUp, QStyle.SubControl.SC_SpinBoxEditField
    assert rect(console, up) > rect(fusion, up)
    assert rect(console, field) < rect(fusion, field)


def test_a_spin_box_draws_its_arrows(qtbot: QtBot) -> None:
    style = ConsoleStyle()
    spin = QSpinBox()
    qtbot.addWidget(spin)
    spin.setStyle(style)
    spin.setRange(0, 10)
    spin.setValue(5)
    spin.resize(150, 30)
    image = spin.grab().toImage()
    up = style.subControlRect(
        QStyle.ComplexControl.CC_SpinBox, _option(spin), QStyle.SubControl.SC_SpinBoxUp, spin
    )
    centre = up.center() + QPoint(1, 0)
    assert image.pixelColor(centre).lightness() < 128  # a dark arrow, not the background


def _option(spin: QSpinBox) -> QStyleOptionSpinBox:
    option = QStyleOptionSpinBox()
    option.initFrom(spin)
    option.buttonSymbols = spin.buttonSymbols()
    option.frame = True
    return option


def test_every_invitation_state_has_a_dot() -> None:
    dots = invitation_state_dots()
    assert set(dots) == set(InvitationState)
    for dot in dots.values():
        assert isinstance(dot, QIcon) and not dot.isNull()


def test_a_dot_keeps_its_colour_on_a_selected_row(qtbot: QtBot) -> None:
    dot = state_dot(QColor("#2f9e44"))
    normal = dot.pixmap(16, 16, QIcon.Mode.Normal).toImage()
    selected = dot.pixmap(16, 16, QIcon.Mode.Selected).toImage()
    middle = QPoint(normal.width() // 2, normal.height() // 2)
    assert normal.pixelColor(middle) == selected.pixelColor(middle)
    assert normal.pixelColor(middle).green() > normal.pixelColor(middle).red()
    assert normal.pixelColor(0, 0).alpha() == 0  # round, on a clear square
