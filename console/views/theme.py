"""The console's look: icons and style sheet shipped in ``console.resources``, on Fusion with a
light palette, so that it looks the same on every clinic workstation."""

from __future__ import annotations

from importlib.resources import files

from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

APP_NAME = "Portal Account Console"

#: Colours the delegates share with the style sheet.
SHARED_TINT = QColor("#fff4dc")
SHARED_ACCENT = QColor("#e39b12")
SHARED_BADGE_FILL = QColor("#fbd98a")
SHARED_BADGE_BORDER = QColor("#d99a1e")
SHARED_BADGE_TEXT = QColor("#4a3200")
MUTED_TEXT = QColor("#6b7684")


def resource_path(name: str) -> str:
    """The file ``name`` among the shipped resources."""
    return str(files("console.resources") / name)


def load_icon(name: str) -> QIcon:
    """An icon from the shipped resources, e.g. ``load_icon("search.svg")``."""
    return QIcon(resource_path(name))


def app_icon() -> QIcon:
    """The application icon (a shield with a person and a key)."""
    return load_icon("app-icon.svg")


def style_sheet() -> str:
    """The console's style sheet."""
    return (files("console.resources") / "style.qss").read_text(encoding="utf-8")


def light_palette() -> QPalette:
    """A calm light palette; the tints that mark shared e-mails are designed against it."""
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
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#9aa3ae"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#9aa3ae"))
    return palette


def apply_theme(app: QApplication) -> None:
    """Give the whole application the console's style, palette, style sheet and icon."""
    app.setStyle("Fusion")
    app.setPalette(light_palette())
    app.setStyleSheet(style_sheet())
    app.setWindowIcon(app_icon())
