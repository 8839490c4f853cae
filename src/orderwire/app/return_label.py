"""A printable return label: a 4 × 6 inch PDF with the RMA as a Code128 barcode and both addresses.

Drawn with reportlab (its `code128` widget encodes the barcode). Standard PDF fonts cover Latin text
only: names and addresses in other scripts print as they can, so staff should also go by the barcode.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import inch, mm
from reportlab.pdfgen.canvas import Canvas

PAGE = (4 * inch, 6 * inch)


@dataclass(frozen=True)
class LabelData:
    """What a return label shows."""

    rma: str
    order_number: str
    shop_name: str
    return_address: tuple[str, ...]  # the shop's, where the parcel goes
    sender: tuple[str, ...]  # the customer's name and address, where it is picked up
    reason: str


def barcode(rma: str) -> Code128:
    """The RMA as a Code128 barcode, sized for the label."""
    return Code128(rma, barHeight=18 * mm, barWidth=0.42 * mm, humanReadable=False)


def render(data: LabelData) -> bytes:
    """The label as PDF bytes."""
    out = io.BytesIO()
    pdf = Canvas(out, pagesize=PAGE, pageCompression=0)
    pdf.setTitle(f"Return label {data.rma}")
    width, height = PAGE
    margin = 6 * mm
    y = height - margin - 12
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(margin, y, "RETURN")
    pdf.setFont("Helvetica", 9)
    pdf.drawRightString(width - margin, y, f"Order {data.order_number}"[:40])
    y -= 10
    code = barcode(data.rma)
    y -= code.height
    code.drawOn(pdf, (width - code.width) / 2, y)
    y -= 14
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawCentredString(width / 2, y, data.rma)
    y = _block(pdf, margin, y - 22, "TO", (data.shop_name, *data.return_address), bold=True)
    y = _block(pdf, margin, y - 10, "FROM", data.sender, bold=False)
    pdf.setFont("Helvetica", 8)
    pdf.drawString(margin, margin + 10, f"Reason: {data.reason}"[:70])
    pdf.drawString(margin, margin, "Stick this label on the parcel. Do not cover the barcode.")
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _block(pdf: Canvas, x: float, y: float, title: str, lines: tuple[str, ...], bold: bool) -> float:
    pdf.setFont("Helvetica-Bold", 8)
    pdf.drawString(x, y, title)
    pdf.setFont("Helvetica-Bold" if bold else "Helvetica", 11 if bold else 10)
    for line in lines:
        if line.strip():
            y -= 13
            pdf.drawString(x, y, line.strip()[:48])
    return y
