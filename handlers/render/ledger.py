"""The ledger (台账) as the rows of its sheets (pure): a summary row per
branch, then per branch one row per report version, meeting and check-in,
with every mark (逾期上报, 更正, 补记录 …) in the last column, where the
workbook shows it in red. storage/ledger.py says what happened; this module
says it in the words an inspector reads. Dates and times stay date and
datetime values, counts stay numbers: the workbook writes them as real
dates and numbers (with a format), so a date filter and sorting work."""
from __future__ import annotations

from datetime import date, datetime

from storage.ledger import BranchLedger, CheckInRecord, EvidenceFile, FlagRecord, MeetingRecord, TaskRecord
from storage.tasks import REPORTED, RETURNED

SUMMARY_TITLE = "汇总"
SUMMARY_HEADERS = ("支部编码", "支部名称", "应报任务", "已上报", "按时上报", "逾期未报",
                   "会议记录", "其中补记录", "更正次数", "流动党员签到")
HEADERS = ("类别", "月份", "事项", "日期/截止", "状态", "登记时间（服务器）", "登记人", "说明", "证明材料", "标注")
STATE_NAMES = {REPORTED: "已上报", RETURNED: "被退回"}  # of a task's latest version; otherwise 未上报
Row = tuple[str | date | datetime | int, ...]
EXCEL_CELL = 32_767  # characters: Excel will not open a workbook with a longer cell


def cell(text: str | None) -> str:
    """Free text as one cell. Chat limits keep new notes far below Excel's
    limit; one stored before them is cut here, visibly, not left to break
    the workbook."""
    text = text or ""
    if len(text) <= EXCEL_CELL:
        return text
    tail = f"……（原文共 {len(text):,} 字，超出 Excel 单元格上限，此处截断）"
    return text[:EXCEL_CELL - len(tail)] + tail


def fmt(moment: datetime | date) -> str:
    """2027-03-29 09:00 / 2027-03-29, inside a sentence (str() slicing:
    strftime is 4× slower)."""
    return str(moment)[:16]


def summary_rows(ledgers: list[BranchLedger], title: str) -> list[tuple]:
    """One row of counts per branch, then a blank row and the export's title."""
    rows: list[tuple] = [(lg.branch.code, lg.branch.name, lg.tasks_due, lg.reported, lg.on_time, lg.overdue,
                          len(lg.meetings), lg.backfilled, lg.corrected, len(lg.checkins)) for lg in ledgers]
    return [*rows, (), (title,)]


def ledger_rows(ledger: BranchLedger) -> list[Row]:
    """A branch's sheet under HEADERS: tasks (in month and number order),
    then meetings, then check-ins."""
    rows: list[Row] = []
    for record in ledger.tasks:
        _task_rows(rows, record)
    rows += [_meeting_row(m) for m in ledger.meetings]
    rows += [_checkin_row(c) for c in ledger.checkins]
    rows += [_flag_row(f) for f in ledger.flags]
    return rows


def _flag_row(f: FlagRecord) -> Row:
    state = f"已解除（{fmt(f.lifted_at)}）" if f.lifted_at else "整顿中"
    return ("整顿", str(f.flagged_at)[:7], f"列为软弱涣散党组织：{cell(f.reason)}", f.flagged_at.date(), state,
            f.flagged_at, f.member_name, cell(f.lift_note), "", "")


def _item_mark(record: TaskRecord) -> str:
    """A rectification item's 销号, or that it is still open."""
    closure = record.rectification
    if closure is None:
        return ""
    if closure.closed_at is None:
        return "整改事项，未销号"
    return f"整改事项，已销号（{fmt(closure.closed_at)}）" + (f"：{closure.note}" if closure.note else "")


def _task_rows(rows: list[Row], record: TaskRecord) -> None:
    task = record.task
    month, deadline = str(task.month), task.deadline
    label = f"{task.month.item_label(task.number)} {task.title}"
    kind = "整改" if record.rectification else "任务"
    item_mark = _item_mark(record)
    if not record.versions:
        shown = "逾期未报" if record.overdue else "未上报"
        marks = "；".join(m for m in ("逾期未报" if record.overdue else "", item_mark) if m)
        rows.append((kind, month, label, deadline, shown, "", "", "", "", marks))
        return
    last = len(record.versions) - 1
    for i, version in enumerate(record.versions):
        marks = []
        if version.late:
            marks.append(f"逾期上报（截止 {fmt(deadline)}）")
        if version.correction:
            marks.append("更正")
        if version.superseded:
            marks.append("已被更正或重报，以后一条为准")
        shown = "历史版本"
        if i == last:
            shown = STATE_NAMES.get(record.state, "未上报")
            if record.state == RETURNED:
                marks.append(f"退回原因：{record.return_reason}")
            if item_mark:
                marks.append(item_mark)
        rows.append((kind, month, label, deadline, shown, version.received_at, version.member_name,
                     cell(version.note), _files(version.evidence) if version.evidence else "", cell("；".join(marks))))


def _files(evidence: tuple[EvidenceFile, ...]) -> str:
    return "；".join(f"{e.file_name}（sha256 {e.sha256}）" if e.sha256 else f"{e.file_name}（未下载）"
                    for e in evidence)


def _meeting_row(m: MeetingRecord) -> Row:
    return ("会议", str(m.held_on)[:7], m.kind, m.held_on,
            f"出席 {m.attended}/{m.expected}" if m.attended is not None else "",
            m.received_at, m.member_name, cell(m.note), "",
            f"补记录（会后 {m.lag_days} 天登记）" if m.backfilled else "")


def _checkin_row(c: CheckInRecord) -> Row:
    return ("签到", str(c.day)[:7], f"流动党员 {c.member_name}（{c.city}）", c.day, "已签到", c.received_at,
            c.member_name, cell(c.note or c.label), "", "")
