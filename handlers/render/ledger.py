"""The ledger (台账) as the rows of its sheets (pure): a summary row per
branch, then per branch one row per report version, meeting, check-in and
双报到 service, and the rows of its member part (党员简历: a section per
member), with every mark (逾期上报, 更正, 补记录, 代签 …) in the last column, where the
workbook shows it in red. storage/ledger.py says what happened; this module
says it in the words an inspector reads. Dates and times stay date and
datetime values, counts stay numbers: the workbook writes them as real
dates and numbers (with a format), so a date filter and sorting work."""
from __future__ import annotations

from datetime import date, datetime

from handlers.render import mask_phone
from storage.ledger import (CHECKIN, MEETING, REMOTE, STUDY, VOLUNTEER, BranchLedger, CheckInRecord, EvidenceFile,
                            FlagRecord, MeetingRecord, MemberEntry, MemberLedger, ServiceRecord, TaskRecord)
from storage.models import ABSENT, EXCUSED, PRESENT
from storage.points import points
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
    rows += [_service_row(r) for r in ledger.community_service]
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
    month, deadline = str(task.month), record.deadline or task.deadline
    label = f"{task.month.item_label(task.number)} {task.title}"
    kind = "整改" if record.rectification else "任务"
    item_mark = _item_mark(record)
    extended = [f"延期至 {fmt(deadline)}（原截止 {fmt(task.deadline)}）"] if record.deadline else []
    acknowledged = [f"已收到（{fmt(record.acknowledged_at)}）"] if record.acknowledged_at else []
    if not record.versions:
        shown = "逾期未报" if record.overdue else ("已收到" if record.acknowledged_at else "未上报")
        marks = (["逾期未报"] if record.overdue else []) + acknowledged + extended + ([item_mark] if item_mark else [])
        rows.append((kind, month, label, deadline, shown, record.acknowledged_at or "", "", "", "",
                     "；".join(marks)))
        return
    last = len(record.versions) - 1
    for i, version in enumerate(record.versions):
        marks = list(extended) if i == 0 else []
        if version.late:
            marks.append(f"逾期上报（截止 {fmt(deadline)}）")
        if version.backfill_lag:  # the duty's report is a meeting logged days after it was held
            marks.append(f"补记录（会后 {version.backfill_lag} 天登记）")
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
            c.proxy_by or c.member_name, cell(c.note or c.label), "", f"代签（{c.proxy_by}登记）" if c.proxy_by else "")


def _service_row(r: ServiceRecord) -> Row:
    """双报到: a member of another unit served this community."""
    return ("志愿（双报到）", str(r.day)[:7], f"{r.member_name}（{r.member_branch}）志愿服务 {r.hours:g} 小时", r.day,
            "已登记", r.received_at, r.member_name, cell(r.note), _photos(r.evidence), "")


# The member part (党员简历): one sheet per branch, a section per member —
# a 基本情况 row, every record in date order, a 小计 row with the period's
# figures and points. The member's name leads every row, so a filter on the
# first column shows one member's whole record.
MEMBER_SHEET = "党员简历"
MEMBER_HEADERS = ("党员", "类别", "事项", "日期", "情况", "登记时间（服务器）", "登记人", "说明", "证明材料", "标注")
ATTENDANCE = {PRESENT: "出席", ABSENT: "缺席", EXCUSED: "请假"}
VIA = {"study": "回复“学习”", "checkin": "回复“签到”"}
ZERO_POINTS = "零积分，请跟进"  # 0 or less, as the bulletin counts them


def member_rows(ledger: BranchLedger) -> list[Row]:
    """The branch's member sheet under MEMBER_HEADERS. Mobile numbers are
    masked (138****1234): the ledger goes to inspectors and archives."""
    rows: list[Row] = []
    for m in ledger.members:
        rows.append(_profile_row(m))
        rows += [_entry_row(m.name, e) for e in m.entries]
        rows.append(_subtotal_row(m))
    return rows


def _profile_row(m: MemberLedger) -> Row:
    who = f"{m.role}，{m.status}" + (f"，流动党员（{m.city}）" if m.is_mobile and m.city else
                                     "，流动党员" if m.is_mobile else "") + ("" if m.active else "，已不在册")
    facts = [f"手机 {mask_phone(m.phone)}"] if m.phone else []
    if m.community:
        facts.append(f"双报到社区：{m.community}")
    return (m.name, "基本情况", who, None, "", None, "", "；".join(facts), "", "")


def _entry_row(name: str, e: MemberEntry) -> Row:
    if e.kind == MEETING:
        return (name, "会议", e.detail, e.day, ATTENDANCE.get(e.status, e.status), e.received_at, e.typed_by,
                cell(e.note), "", f"补记录（会后 {e.lag_days} 天登记）" if e.backfilled else "")
    if e.kind == CHECKIN:
        return (name, "签到", "代签" if e.proxy else "签到", e.day, "已签到", e.received_at, e.typed_by, cell(e.note),
                "", f"代签（{e.typed_by}登记）" if e.proxy else "")
    if e.kind == REMOTE:
        return (name, "主题党日", f"远程参加「{e.detail}」", e.day, "远程参加", e.received_at, e.typed_by,
                VIA.get(e.status, ""), "", "")
    if e.kind == VOLUNTEER:
        return (name, "志愿", "志愿服务", e.day, f"{e.hours:g} 小时", e.received_at, e.typed_by, cell(e.note),
                _photos(e.evidence), f"计入双报到社区：{e.community}" if e.community else "")
    assert e.kind == STUDY, e.kind
    return (name, "学习", "理论学习", e.day, "已学习", e.received_at, e.typed_by, cell(e.note), "", "")


def _subtotal_row(m: MemberLedger) -> Row:
    s = m.stats
    photos = sum(e.evidence for e in m.entries)
    figures = (f"会议 出席 {s.attended}/{s.held}；主题党日 {s.theme_attended}/{s.theme_held}"
               + (f"（远程参加 {s.theme_remote}）" if s.theme_remote else "")
               + f"；缺席 {s.absent}；签到 {s.checkin_days} 天" + (f"（代签 {s.proxy_checkins}）" if s.proxy_checkins else "")
               + f"；志愿 {s.volunteer_hours:g} 小时；学习 {s.study_days} 天")
    score = points(s)
    return (m.name, "小计", figures, None, f"积分 {score}", None, "", "", _photos(photos),
            ZERO_POINTS if score <= 0 else "")


def _photos(n: int) -> str:
    return f"照片/文件 {n} 份" if n else ""
