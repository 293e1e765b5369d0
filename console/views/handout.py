"""The printed invitation handout (SPEC §5): one page the patient takes home, with their
name, the PIN, the expiry and the steps to create their portal account.

The page is ``console/resources/handout.html`` laid out by Qt's rich-text engine, written to
a PDF (``write_handout``) or sent to a printer (``print_handout``). It never shows the date
of birth (the patient proves it when accepting) nor the link's token (only the e-mail has
it): a lost handout alone cannot open the account.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSizeF
from PySide6.QtGui import (
    QImage,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextDocument,
)
from PySide6.QtPrintSupport import QPrinter

from console.views.handout_text import (
    DEFAULT_POLICY_WORDS,
    HandoutText,
    handout_html,
)

_MARGINS_MM = QMarginsF(18, 16, 18, 16)
_LAYOUT_DPI = 96


def _layout_device() -> QImage:
    image = QImage(1, 1, QImage.Format.Format_RGB32)
    dots_per_metre = round(_LAYOUT_DPI / 0.0254)
    image.setDotsPerMeterX(dots_per_metre)
    image.setDotsPerMeterY(dots_per_metre)
    return image


_LAYOUT_DEVICE = _layout_device()


def _lay_out(device: QPagedPaintDevice, text: HandoutText, *, a4: bool) -> QTextDocument:
    if a4:
        device.setPageLayout(
            QPageLayout(
                QPageSize(QPageSize.PageSizeId.A4),
                QPageLayout.Orientation.Portrait,
                _MARGINS_MM,
                QPageLayout.Unit.Millimeter,
            )
        )
    else:  # the paper the person chose in the print dialog
        device.setPageMargins(_MARGINS_MM, QPageLayout.Unit.Millimeter)
    document = QTextDocument()
    document.setDocumentMargin(0)
    # Laid out at 96 dots per inch whatever the device (the template's px are a screen's)
    # and scaled when painted; QTextDocument.print_ would add margins and a page number.
    document.documentLayout().setPaintDevice(_LAYOUT_DEVICE)
    document.setHtml(handout_html(text))
    area = device.pageLayout().paintRect(QPageLayout.Unit.Inch)
    document.setPageSize(QSizeF(area.width() * _LAYOUT_DPI, area.height() * _LAYOUT_DPI))
    return document


def _paint(device: QPagedPaintDevice, document: QTextDocument) -> None:
    painter = QPainter()
    if not painter.begin(device):
        raise OSError("The handout could not be started (the file or printer refused it).")
    try:
        scale = device.logicalDpiX() / _LAYOUT_DPI
        painter.scale(scale, scale)
        size = document.pageSize()
        document.drawContents(painter, QRectF(0, 0, size.width(), size.height()))
    finally:
        painter.end()


def write_handout(
    path: str | Path,
    *,
    clinic_name: str,
    portal_name: str,
    patient_name: str,
    pin: str,
    expires_at: dt.datetime,
    portal_url: str,
    address: str = "",
    password_rule: str = DEFAULT_POLICY_WORDS,
    clinic_phone: str = "",
) -> Path:
    """Write the one-page handout PDF to ``path``; return it. Raises ``OSError`` when the
    file cannot be written."""
    text = HandoutText(
        clinic_name,
        portal_name,
        patient_name,
        pin,
        expires_at,
        portal_url,
        address,
        password_rule,
        clinic_phone,
    )
    target = Path(path)
    target.open("wb").close()  # a folder that is missing or read-only: the OSError, named
    writer = QPdfWriter(str(target))
    writer.setTitle(f"{portal_name} invitation")
    writer.setCreator(clinic_name or portal_name)
    writer.setResolution(300)
    _paint(writer, _lay_out(writer, text, a4=True))
    del writer  # finishes the file
    if not target.is_file() or target.stat().st_size == 0:
        raise OSError(f"The handout could not be written to {target}.")
    return target


def print_handout(printer: QPrinter, text: HandoutText) -> None:
    """Send the handout to ``printer`` (set up by the print dialog)."""
    _paint(printer, _lay_out(printer, text, a4=False))


__all__ = ["print_handout", "write_handout"]
