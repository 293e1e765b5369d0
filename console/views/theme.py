"""The console's look: icons and style sheet shipped in ``console.resources``, on Fusion with a
light palette, so that it looks the same on every clinic workstation."""

from __future__ import annotations

from importlib.resources import files

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QProxyStyle,
    QStyle,
    QStyleOption,
    QStyleOptionComplex,
    QStyleOptionSpinBox,
    QWidget,
)

from console.models.states import InvitationState

APP_NAME = "Portal Account Console"

#: Colours the delegates share with the style sheet.
SHARED_TINT = QColor("#fff4dc")
SHARED_ACCENT = QColor("#e39b12")
SHARED_BADGE_FILL = QColor("#fbd98a")
SHARED_BADGE_BORDER = QColor("#d99a1e")
SHARED_BADGE_TEXT = QColor("#4a3200")
MUTED_TEXT = QColor("#6b7684")
#: The red of a problem said in words (a refused setting, a failed action).
PROBLEM_COLOUR = "#b42318"
#: Text of a disabled control: readable, but plainly not to be clicked.
DISABLED_TEXT = QColor("#9aa3ae")

#: The dot beside each invitation state (the state's name is always written beside it).
INVITATION_STATE_COLOURS: dict[InvitationState, QColor] = {
    InvitationState.PENDING: QColor("#d98e04"),
    InvitationState.ACCEPTED: QColor("#2f9e44"),
    InvitationState.EXPIRED: QColor("#8a94a3"),
    InvitationState.CANCELLED: QColor("#c92a2a"),
}

_DOT = 10
_ICON = 16
#: How much wider than Fusion's own a spin box's arrow buttons are: Fusion's narrow column
#: and small flat arrows look squeezed once a spin box is as tall as the text fields.
_SPIN_BUTTON_EXTRA = 6
_SPIN_ARROW = QColor("#3e4a59")
_SPIN_ARROW_OFF = QColor("#b8c0ca")
_SPIN_DIVIDER = QColor("#d5dae1")
_SPIN_PRESSED = QColor("#dbe6f3")
_SPIN_UP = QStyle.SubControl.SC_SpinBoxUp
_SPIN_DOWN = QStyle.SubControl.SC_SpinBoxDown


def resource_path(name: str) -> str:
    """The file ``name`` among the shipped resources."""
    return str(files("console.resources") / name)


def load_icon(name: str) -> QIcon:
    """An icon from the shipped resources, e.g. ``load_icon("search.svg")``."""
    return QIcon(resource_path(name))


def app_icon() -> QIcon:
    """The application icon (a shield with a person and a key)."""
    return load_icon("app-icon.svg")


def state_dot(colour: QColor) -> QIcon:
    """A small round dot of ``colour``, outlined a shade darker, for a state shown in a table
    (as the account list draws its states); centred in an item view's usual 16-pixel icon."""
    scale = 2  # drawn at twice the size, so it stays round on high-density screens
    pixmap = QPixmap(_ICON * scale, _ICON * scale)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(colour.darker(120), scale))
    painter.setBrush(colour)
    edge = (_ICON - _DOT) / 2 + 1
    painter.drawEllipse(QRectF(edge * scale, edge * scale, (_DOT - 2) * scale, (_DOT - 2) * scale))
    painter.end()
    pixmap.setDevicePixelRatio(scale)
    icon = QIcon(pixmap)
    icon.addPixmap(pixmap, QIcon.Mode.Selected)  # the same colour on a selected row
    return icon


def invitation_state_dots() -> dict[InvitationState, QIcon]:
    """The dot of each invitation state, for ``InvitationTableModel(state_marks=...)``."""
    return {state: state_dot(colour) for state, colour in INVITATION_STATE_COLOURS.items()}


def style_sheet() -> str:
    """The console's style sheet."""
    return (files("console.resources") / "style.qss").read_text(encoding="utf-8")


def light_palette() -> QPalette:
    """A calm light palette; the tints that mark shared e-mails are designed against it.
    Disabled controls (buttons, toolbar actions, menus, fields) get grey text, so that they
    never look clickable."""
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#f4f6f9",
        QPalette.ColorRole.WindowText: "#1f2933",
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f6f8fb",
        QPalette.ColorRole.Text: "#1f2933",
        QPalette.ColorRole.Button: "#f4f6f9",
        QPalette.ColorRole.ButtonText: "#1f2933",
        QPalette.ColorRole.Highlight: "#2b6cb0",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#ffffff",
        QPalette.ColorRole.ToolTipText: "#1f2933",
        QPalette.ColorRole.PlaceholderText: "#8a94a3",
        QPalette.ColorRole.Link: "#2b6cb0",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    disabled = {
        QPalette.ColorRole.WindowText: DISABLED_TEXT,
        QPalette.ColorRole.Text: DISABLED_TEXT,
        QPalette.ColorRole.ButtonText: DISABLED_TEXT,
        QPalette.ColorRole.PlaceholderText: QColor("#b8c0ca"),
        QPalette.ColorRole.Base: QColor("#f4f6f9"),
        QPalette.ColorRole.Button: QColor("#eef1f5"),
        QPalette.ColorRole.Highlight: QColor("#c9d3df"),
    }
    for role, grey in disabled.items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, grey)
    return palette


class ConsoleStyle(QProxyStyle):
    """Fusion, with spin-box buttons that still look right when the spin box is as tall as
    the text fields beside it: a wider column, a divider and arrows of a readable size."""

    def __init__(self) -> None:
        super().__init__("Fusion")

    def drawComplexControl(
        self,
        control: QStyle.ComplexControl,
        option: QStyleOptionComplex,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        if (
            control != QStyle.ComplexControl.CC_SpinBox
            or not isinstance(option, QStyleOptionSpinBox)
            or option.buttonSymbols != QAbstractSpinBox.ButtonSymbols.UpDownArrows
        ):
            super().drawComplexControl(control, option, painter, widget)
            return
        field = QStyleOptionSpinBox(option)  # Fusion draws the frame and the field...
        field.buttonSymbols = QAbstractSpinBox.ButtonSymbols.NoButtons
        super().drawComplexControl(control, field, painter, widget)
        up = self.subControlRect(control, option, _SPIN_UP, widget)
        down = self.subControlRect(control, option, _SPIN_DOWN, widget)
        painter.save()  # ...and the buttons are drawn here
        painter.setPen(_SPIN_DIVIDER)
        edge = up.left() if option.direction != Qt.LayoutDirection.RightToLeft else up.right()
        painter.drawLine(edge, up.top() + 1, edge, down.bottom() - 1)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        enabled = bool(option.state & QStyle.StateFlag.State_Enabled)
        sunken = bool(option.state & QStyle.StateFlag.State_Sunken)
        steps = QAbstractSpinBox.StepEnabledFlag
        for rect, sub, step, pointing in (
            (up, _SPIN_UP, steps.StepUpEnabled, -1),
            (down, _SPIN_DOWN, steps.StepDownEnabled, 1),
        ):
            usable = enabled and bool(option.stepEnabled & step)
            if usable and sunken and option.activeSubControls & sub:
                painter.fillRect(rect.adjusted(1, 0, -1, 0), _SPIN_PRESSED)
            painter.setBrush(_SPIN_ARROW if usable else _SPIN_ARROW_OFF)
            painter.drawPolygon(_arrow(rect, pointing))
        painter.restore()

    def subControlRect(
        self,
        control: QStyle.ComplexControl,
        option: QStyleOptionComplex,
        sub: QStyle.SubControl,
        widget: QWidget | None = None,
    ) -> QRect:
        # Qt passes None where there is no widget, which the stubs do not allow for.
        rect = super().subControlRect(control, option, sub, widget)  # type: ignore[arg-type]
        if control != QStyle.ComplexControl.CC_SpinBox or rect.isNull():
            return rect
        # Fusion has already mirrored the rectangles for right-to-left: the buttons are
        # on the left there.
        extra = _SPIN_BUTTON_EXTRA
        buttons_right = option.direction != Qt.LayoutDirection.RightToLeft
        if sub in (_SPIN_UP, _SPIN_DOWN):
            if buttons_right:
                rect.setLeft(rect.left() - extra)
            else:
                rect.setRight(rect.right() + extra)
        elif sub == QStyle.SubControl.SC_SpinBoxEditField:
            if buttons_right:
                rect.setRight(rect.right() - extra)
            else:
                rect.setLeft(rect.left() + extra)
        return rect

    def sizeFromContents(
        self,
        kind: QStyle.ContentsType,
        option: QStyleOption,
        size: QSize,
        widget: QWidget | None = None,
    ) -> QSize:
        result = super().sizeFromContents(kind, option, size, widget)  # type: ignore[arg-type]
        if kind == QStyle.ContentsType.CT_SpinBox:
            result.setWidth(result.width() + _SPIN_BUTTON_EXTRA)
        return result


def _arrow(rect: QRect, pointing: int) -> QPolygonF:
    """A small triangle in the middle of ``rect``, pointing up (-1) or down (1)."""
    half = 4.0 if rect.height() >= 12 else 3.0  # a spin box at its own, smaller height
    height = half * 0.6
    middle = QPointF(rect.center().x() + 1.0, rect.center().y() + 0.5 + pointing * 0.5)
    base = middle.y() - pointing * height
    return QPolygonF(
        [
            QPointF(middle.x() - half, base),
            QPointF(middle.x() + half, base),
            QPointF(middle.x(), middle.y() + pointing * height),
        ]
    )


def apply_theme(app: QApplication) -> None:
    """Give the whole application the console's style, palette, style sheet and icon."""
    app.setStyle(ConsoleStyle())
    app.setPalette(light_palette())
    app.setStyleSheet(style_sheet())
    app.setWindowIcon(app_icon())
