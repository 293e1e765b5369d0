"""How the re-issue dialog shows where a typed address stands: a colour, a word for screen
readers and a round badge whose mark (tick, exclamation mark, cross, dots) tells the state
without the colour."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPixmap

from console.views.address_verdict import AddressState

GREEN, AMBER, RED, GREY = "#1e7d3a", "#a35f00", "#b42318", "#6b7684"
STATE_COLOURS = {
    AddressState.FREE: GREEN,
    AddressState.WARNING: AMBER,
    AddressState.INVALID: RED,
    AddressState.TAKEN: RED,
    AddressState.CHECKING: GREY,
    AddressState.UNCHECKED: GREY,
    AddressState.EMPTY: GREY,
}
#: The state in a word, for the badge's accessible name.
STATE_NAMES = {
    AddressState.FREE: "Free",
    AddressState.WARNING: "Warning",
    AddressState.INVALID: "Not valid",
    AddressState.TAKEN: "Taken",
    AddressState.CHECKING: "Checking",
    AddressState.UNCHECKED: "Not checked",
    AddressState.EMPTY: "",
}


def state_icon(state: AddressState, size: int = 18, ratio: float = 2.0) -> QPixmap:
    """A round badge for ``state``: a tick, an exclamation mark, a cross or dots — so that the
    state is not told by colour alone."""
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    if state is AddressState.EMPTY:
        return pixmap
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(STATE_COLOURS[state]))
    painter.drawEllipse(QRectF(1, 1, size - 2, size - 2))
    pen = QPen(
        QColor("white"),
        size / 9,
        Qt.PenStyle.SolidLine,
        Qt.PenCapStyle.RoundCap,
        Qt.PenJoinStyle.RoundJoin,
    )
    painter.setPen(pen)
    s = size
    if state is AddressState.FREE:
        path = QPainterPath(QPointF(s * 0.28, s * 0.52))
        path.lineTo(QPointF(s * 0.44, s * 0.67))
        path.lineTo(QPointF(s * 0.72, s * 0.35))
        painter.drawPath(path)
    elif state in (AddressState.WARNING, AddressState.UNCHECKED):
        painter.drawLine(QPointF(s / 2, s * 0.27), QPointF(s / 2, s * 0.55))
        painter.drawPoint(QPointF(s / 2, s * 0.73))
    elif state in (AddressState.INVALID, AddressState.TAKEN):
        painter.drawLine(QPointF(s * 0.33, s * 0.33), QPointF(s * 0.67, s * 0.67))
        painter.drawLine(QPointF(s * 0.67, s * 0.33), QPointF(s * 0.33, s * 0.67))
    else:  # checking
        for x in (0.3, 0.5, 0.7):
            painter.drawPoint(QPointF(s * x, s / 2))
    painter.end()
    return pixmap


__all__ = ["AMBER", "GREEN", "GREY", "RED", "STATE_COLOURS", "STATE_NAMES", "state_icon"]
