"""core.xlsx: the fast writer of large exports is a workbook Excel-compatible readers open."""

import io
from decimal import Decimal

from openpyxl import load_workbook

from core.xlsx import workbook


def test_text_numbers_and_hostile_text_read_back():
    rows = [["张三", Decimal("29.5"), 61, None, '=HYPERLINK("http://x")', "a\x07b", " 空格 "]] * 30
    content = workbook("2026年学时", ["姓名", "公需", "专业", "空", "备注", "控制", "空白"], rows, widths=[12, 8])
    book = load_workbook(io.BytesIO(content))
    sheet = book.active
    assert sheet.title == "2026年学时"
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("姓名", "公需", "专业", "空", "备注", "控制", "空白")
    assert values[1] == ("张三", 29.5, 61, None, '=HYPERLINK("http://x")', "ab", " 空格 ")
    assert sheet["E2"].data_type == "s"  # text, never a formula
    assert len(values) == 31 and sheet.column_dimensions["A"].width == 12
