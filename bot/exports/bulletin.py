"""The bulletin (通报) workbook: branch ranking, committee ranking, mobile
members not checked in, zero-point members, the registers' lists — one sheet each, the ranking
first and active. Sheets, headers and rows come from
handlers/render/bulletin.py; this adds the widths and the rate column's
percent format. Page set-up, names and cell types: the writer's, as for
every export."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.clock import Clock
from bot.exports.xlsx_stream import StreamingWorkbook
from handlers.render.bulletin import bulletin_sheets
from storage.bulletin import Bulletin

# Column widths of each sheet, in bulletin_sheets() order.
WIDTHS = ((6, 10, 36, 8, 10, 10, 12, 50, 30), (6, 10, 30, 10, 10), (36, 12, 12, 16), (36, 12, 10, 10),
          (20, 10, 36, 40))
PERCENT = ((6,), (), (), (), ())  # 按时完成率


def write_bulletin(b: Bulletin, path: str | Path, exported_at: datetime | None = None) -> list[str]:
    """Writes the workbook; returns its sheet names in order."""
    book = StreamingWorkbook(path, exported_at or Clock().now())
    names = [book.add_sheet(sheet.title, sheet.headers, widths, sheet.rows, percent=percent,
                            caption=f"{b.period.label}通报 {sheet.title}")
             for sheet, widths, percent in zip(bulletin_sheets(b), WIDTHS, PERCENT, strict=True)]
    book.close()
    return names
