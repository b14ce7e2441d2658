"""Writing the ledger (台账) as an .xlsx an office worker can use: a summary
sheet, then one sheet per branch, Chinese headers, frozen header rows and
sensible column widths. openpyxl's write-only mode keeps a county-year
(~100,000 rows) to about a second."""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

from storage.ledger import HEADERS, BranchLedger

SUMMARY_HEADERS = ("支部编码", "支部名称", "应报任务", "已上报", "按时上报", "逾期未报",
                   "会议记录", "其中补记录", "更正次数", "流动党员签到")
BRANCH_WIDTHS = (6, 9, 40, 12, 10, 18, 10, 40, 40, 30)
SUMMARY_WIDTHS = (10, 36, 10, 8, 10, 10, 10, 12, 10, 12)
_BOLD, _FILL = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
_MARK = Font(color="C00000")


def _header(sheet, titles) -> list:
    cells = []
    for title in titles:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font, cell.fill, cell.alignment = _BOLD, _FILL, Alignment(horizontal="center")
        cells.append(cell)
    return cells


def _setup(sheet, widths) -> None:
    sheet.freeze_panes = "A2"
    for i, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + i)].width = width


def sheet_title(ledger: BranchLedger, used: set[str]) -> str:
    """Excel allows 31 characters and no []:*?/\\ in a sheet name."""
    title = "".join(ch for ch in f"{ledger.branch.code} {ledger.branch.name}" if ch not in "[]:*?/\\")[:31]
    while title in used:
        title = title[:28] + f"~{len(used) % 100:02d}"
    used.add(title)
    return title


def write_ledger(ledgers: list[BranchLedger], path: str | Path, title: str) -> None:
    book = Workbook(write_only=True)
    summary = book.create_sheet("汇总")
    _setup(summary, SUMMARY_WIDTHS)
    summary.append(_header(summary, SUMMARY_HEADERS))
    for lg in ledgers:
        summary.append([lg.branch.code, lg.branch.name, lg.tasks_due, lg.reported, lg.on_time,
                        lg.overdue, lg.meetings, lg.backfilled, lg.corrected, lg.checkins])
    summary.append([])
    summary.append([title])
    used: set[str] = {"汇总"}
    for lg in ledgers:
        sheet = book.create_sheet(sheet_title(lg, used))
        _setup(sheet, BRANCH_WIDTHS)
        sheet.append(_header(sheet, HEADERS))
        for row in lg.rows:
            if row[-1]:  # a marked row: the mark in red, so it cannot be missed
                mark = WriteOnlyCell(sheet, value=row[-1])
                mark.font = _MARK
                sheet.append([*row[:-1], mark])
            else:
                sheet.append(row)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
