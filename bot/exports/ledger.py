"""The ledger (台账) workbook: a summary sheet (first and active), then per
branch two sheets: its records, named "CODE 支部名称", and its members'
(党员简历), named "党员简历 CODE" (each name made valid and unique by the
writer, so maybe cut: each printed page's header says it in full); frozen, printed-on-every-page header rows, widths an office worker
expects, and each row's mark (the last column) in red. The words come from
handlers/render/ledger.py; each branch's rows are rendered just before its
sheet is written, so a county's rows never all sit in memory as text at
once."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.clock import Clock
from bot.exports.xlsx_stream import StreamingWorkbook
from handlers.render.ledger import (HEADERS, MEMBER_HEADERS, MEMBER_SHEET, SUMMARY_HEADERS, SUMMARY_TITLE, ledger_rows,
                                    member_rows, summary_rows)
from storage.ledger import BranchLedger

BRANCH_WIDTHS = (6, 9, 40, 12, 10, 18, 10, 40, 40, 30)
SUMMARY_WIDTHS = (10, 36, 10, 8, 10, 10, 10, 12, 10, 12)
MEMBER_WIDTHS = (10, 8, 40, 12, 12, 18, 10, 36, 14, 26)


def write_ledger(ledgers: list[BranchLedger], path: str | Path, title: str,
                 exported_at: datetime | None = None, members: bool = True) -> list[str]:
    """Writes the workbook; returns its sheet names in order. `exported_at`
    (printed in every page's footer) defaults to now on the default clock.
    Without `members`, no 党员简历 sheets: a county's ledger in half the
    sheets, for an office that wants the branches' records only."""
    book = StreamingWorkbook(path, exported_at or Clock().now())
    names = [book.add_sheet(SUMMARY_TITLE, SUMMARY_HEADERS, SUMMARY_WIDTHS, summary_rows(ledgers, title),
                            caption=title)]
    for lg in ledgers:
        branch = f"{lg.branch.code} {lg.branch.name}"
        names.append(book.add_sheet(branch, HEADERS, BRANCH_WIDTHS, ledger_rows(lg), mark_last=True,
                                    caption=branch))
        # Next to it, its members (党员简历): the word first, so a long code cut to fit
        # the 31-unit name still leaves the sheet recognisable; the caption says it in full.
        if not members:
            continue
        names.append(book.add_sheet(f"{MEMBER_SHEET} {lg.branch.code}", MEMBER_HEADERS, MEMBER_WIDTHS,
                                    member_rows(lg), mark_last=True, caption=f"{branch} {MEMBER_SHEET}"))
    book.close()
    return names
