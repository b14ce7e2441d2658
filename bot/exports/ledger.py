"""The ledger (台账) workbook: a summary sheet, then one sheet per branch;
Chinese headers, frozen header rows, widths an office worker expects, and
every mark (逾期上报, 更正, 补记录 …) in red in the last column."""
from __future__ import annotations

from pathlib import Path

from bot.exports.xlsx_stream import StreamingWorkbook
from storage.ledger import HEADERS, BranchLedger

SUMMARY_HEADERS = ("支部编码", "支部名称", "应报任务", "已上报", "按时上报", "逾期未报",
                   "会议记录", "其中补记录", "更正次数", "流动党员签到")
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
    summary = [(lg.branch.code, lg.branch.name, lg.tasks_due, lg.reported, lg.on_time, lg.overdue,
                lg.meetings, lg.backfilled, lg.corrected, lg.checkins) for lg in ledgers]
    book.add_sheet("汇总", SUMMARY_HEADERS, SUMMARY_WIDTHS, [*summary, (), (title,)])
    used = {"汇总"}
    for lg in ledgers:
        book.add_sheet(sheet_title(lg.branch.code, lg.branch.name, used), HEADERS, BRANCH_WIDTHS,
                       lg.rows, mark_last=True)
    book.close()
