"""The certificate as a one-page A4 PDF with Chinese text and a QR code of its verification URL.

Chinese text uses reportlab's built-in CID font STSong-Light (Adobe's Asian font pack names it;
PDF readers supply the glyphs), so no font file ships with the code. The QR code is drawn as
vector squares from segno's matrix: sharp at any zoom, no image library involved.
"""

from __future__ import annotations

from io import BytesIO

import segno
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from .models import Certificate

FONT = "STSong-Light"
_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def _draw_qr(pdf: canvas.Canvas, data: str, x: float, y: float, size: float) -> None:
    qr = segno.make_qr(data, error="m")
    matrix = [list(row) for row in qr.matrix]
    quiet = 2
    count = len(matrix) + 2 * quiet
    module = size / count
    pdf.setFillColor(colors.white)
    pdf.rect(x, y, size, size, stroke=0, fill=1)
    pdf.setFillColor(colors.black)
    for row_index, row in enumerate(matrix):
        for col_index, dark in enumerate(row):
            if dark:
                pdf.rect(
                    x + (col_index + quiet) * module,
                    y + size - (row_index + quiet + 1) * module,
                    module,
                    module,
                    stroke=0,
                    fill=1,
                )


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Chinese has no spaces: wrap by character width."""
    lines, current = [], ""
    for ch in text:
        if pdfmetrics.stringWidth(current + ch, font, size) > width and current:
            lines.append(current)
            current = ch
        else:
            current += ch
    if current:
        lines.append(current)
    return lines


def render_pdf(certificate: Certificate, verify_url: str) -> bytes:
    font = _font()
    buffer = BytesIO()
    width, height = A4
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"{certificate.title} {certificate.display_code}")
    pdf.setAuthor(certificate.issuer_name)
    pdf.setSubject(certificate.kind_label)

    margin = 20 * mm
    pdf.setStrokeColor(colors.HexColor("#B22222"))
    pdf.setLineWidth(3)
    pdf.rect(margin / 2, margin / 2, width - margin, height - margin)

    y = height - 45 * mm
    pdf.setFillColor(colors.HexColor("#B22222"))
    pdf.setFont(font, 26)
    pdf.drawCentredString(width / 2, y, certificate.title)
    pdf.setFillColor(colors.black)
    y -= 12 * mm
    pdf.setFont(font, 12)
    pdf.drawCentredString(width / 2, y, certificate.kind_label)

    y -= 20 * mm
    pdf.setFont(font, 15)
    pdf.drawString(margin + 5 * mm, y, f"兹证明 {certificate.holder_name_masked}：")
    y -= 12 * mm
    text_width = width - 2 * margin - 10 * mm
    for label, value in certificate.lines:
        for i, part in enumerate(_wrap(f"{label}：{value}", font, 14, text_width)):
            pdf.drawString(margin + 12 * mm if i == 0 else margin + 16 * mm, y, part)
            y -= 9 * mm

    y -= 8 * mm
    pdf.setFont(font, 14)
    pdf.drawRightString(width - margin - 5 * mm, y, f"颁发单位：{certificate.issuer_name}")
    y -= 9 * mm
    issued = timezone.localtime(certificate.issued_at).strftime("%Y年%m月%d日")
    pdf.drawRightString(width - margin - 5 * mm, y, f"颁发日期：{issued}")

    qr_size = 38 * mm
    qr_y = margin + 12 * mm
    _draw_qr(pdf, verify_url, margin + 5 * mm, qr_y, qr_size)
    pdf.setFont(font, 11)
    text_x = margin + 5 * mm + qr_size + 6 * mm
    pdf.drawString(text_x, qr_y + qr_size - 8 * mm, f"验证码：{certificate.display_code}")
    pdf.drawString(text_x, qr_y + qr_size - 16 * mm, "扫描二维码或访问以下网址核验本证明：")
    pdf.setFont("Helvetica", 8)
    pdf.drawString(text_x, qr_y + qr_size - 23 * mm, verify_url)
    pdf.setFont(font, 9)
    pdf.setFillColor(colors.HexColor("#555555"))
    pdf.drawString(text_x, qr_y + 2 * mm, "为保护个人信息，证明中的姓名已部分隐藏。")

    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
