"""The ledger (台账) workbook: a summary sheet, then one sheet per branch;
frozen header rows, widths an office worker expects, and each row's mark
(the last column) in red. The words come from handlers/render/ledger.py;
each branch's rows are rendered just before its sheet is written, so a
county's rows never all sit in memory as text at once."""
from __future__ import annotations

from pathlib import Path

from bot.exports.xlsx_stream import StreamingWorkbook
from handlers.render.ledger import HEADERS, SUMMARY_HEADERS, SUMMARY_TITLE, ledger_rows, summary_rows
from storage.ledger import BranchLedger

BRANCH_WIDTHS = (6, 9, 40, 12, 10, 18, 10, 40, 40, 30)
SUMMARY_WIDTHS = (10, 36, 10, 8, 10, 10, 10, 12, 10, 12)


def sheet_title(code: str, name: str, used: set[str]) -> str:
    """Excel allows 31 characters and none of []:*?/\\ in a sheet name."""
    title = "".join(ch for ch in f"{code} {name}" if ch not in "[]:*?/\\")[:31]
    while title in used:
        title = f"{title[:27]}~{len(used) % 1000:03d}"
    used.add(title)
    return title


def write_ledger(ledgers: list[BranchLedger], path: str | Path, title: str) -> None:
    book = StreamingWorkbook(path)
    book.add_sheet(SUMMARY_TITLE, SUMMARY_HEADERS, SUMMARY_WIDTHS, summary_rows(ledgers, title))
    used = {SUMMARY_TITLE}
    for lg in ledgers:
        book.add_sheet(sheet_title(lg.branch.code, lg.branch.name, used), HEADERS, BRANCH_WIDTHS,
                       ledger_rows(lg), mark_last=True)
    book.close()
