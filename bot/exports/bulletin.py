"""The bulletin (通报) workbook: rankings, overdue, 三会一课, mobile members,
zero-point members — one sheet each, frozen header rows. Sheets, headers
and rows come from handlers/render/bulletin.py; this adds the widths."""
from __future__ import annotations

from pathlib import Path

from bot.exports.xlsx_stream import StreamingWorkbook
from handlers.render.bulletin import bulletin_sheets
from storage.bulletin import Bulletin

# Column widths of each sheet, in bulletin_sheets() order.
WIDTHS = ((6, 10, 36, 8, 10, 10, 12, 50, 30), (6, 10, 30, 10, 10), (36, 12, 12, 16), (36, 12, 10, 10))


def write_bulletin(b: Bulletin, path: str | Path) -> None:
    book = StreamingWorkbook(path)
    for sheet, widths in zip(bulletin_sheets(b), WIDTHS, strict=True):
        book.add_sheet(sheet.title, sheet.headers, widths, sheet.rows)
    book.close()
