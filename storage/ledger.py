"""The ledger (台账) as rows: per branch, every task with every version of its
report, every meeting and every mobile member's check-in, each with the
server time it was received. Loaded in a handful of bulk queries, so a
county's year costs the same number of queries as one branch's month.

A record is marked where it is not what it seems at first sight: reported
after the deadline (逾期上报), corrected (已更正 / 更正), returned (被退回),
or logged days after the event it describes (补记录) — the ledger never lets
a made-up record look like a timely one."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import (Assignment, CheckIn, Evidence, Meeting, Member, Organization,
                            Report, Task)
from storage.month import Month, span
from storage.orgs import targets
from storage.tasks import REPORTED, RETURNED

BACKFILL_DAYS = 3
HEADERS = ("类别", "月份", "事项", "日期/截止", "状态", "登记时间（服务器）", "登记人", "说明", "证明材料", "标注")


@dataclass
class BranchLedger:
    branch: Organization
    rows: list[tuple] = field(default_factory=list)
    tasks_due: int = 0
    reported: int = 0
    on_time: int = 0
    overdue: int = 0
    meetings: int = 0
    backfilled: int = 0
    corrected: int = 0
    checkins: int = 0


def fmt(moment: datetime | date | None) -> str:
    """2027-03-29 09:00 / 2027-03-29 (str() slicing: strftime is 4× slower,
    and a county-year ledger formats ~150,000 of these)."""
    if moment is None:
        return ""
    return str(moment)[:16]


def build_ledgers(session: Session, branches: list[Organization], first: Month, last: Month,
                  today: date) -> list[BranchLedger]:
    start, end = span(first, last)
    [b.id for b in branches]
    # Plain rows throughout: a county-year is ~100,000 records, and ORM
    # objects would cost more than writing the workbook.
    run = session.connection().execute
    tasks = run(select(Task.__table__).where(Task.month >= str(first), Task.month <= str(last))
                .order_by(Task.month, Task.number)).all()
    task_ids = [t.id for t in tasks]
    names = dict(run(select(Member.id, Member.name)).all())
    reports = defaultdict(list)
    for r in run(select(Report.__table__).where(Report.task_id.in_(task_ids)).order_by(Report.id)).all():
        reports[(r.task_id, r.branch_id)].append(r)
    evidence = defaultdict(list)
    for e in run(select(Evidence.report_id, Evidence.file_name, Evidence.sha256)
                 .join(Report, Evidence.report_id == Report.id).where(Report.task_id.in_(task_ids))):
        evidence[e.report_id].append(e)
    states = {(a.task_id, a.branch_id): a for a in run(
        select(Assignment.__table__).where(Assignment.task_id.in_(task_ids)))}
    meetings = defaultdict(list)
    for m in run(select(Meeting.__table__).where(Meeting.held_on >= start, Meeting.held_on < end)
                 .order_by(Meeting.held_on)).all():
        meetings[m.branch_id].append(m)
    checkins = defaultdict(list)
    for c in run(select(CheckIn.day, CheckIn.received_at, CheckIn.note, CheckIn.label, Member.name,
                        Member.outflow_city, Member.org_id).join(Member, CheckIn.member_id == Member.id)
                 .where(CheckIn.day >= start, CheckIn.day < end, Member.is_mobile).order_by(CheckIn.day)):
        checkins[c.org_id].append(c)
    ledgers, applying = [], {}
    by_code = any(t.target_kind == "codes" for t in tasks)
    for branch in branches:
        ledger = BranchLedger(branch)
        key = (branch.category, branch.code) if by_code else branch.category
        if key not in applying:  # branches of one 领域 share their task list
            applying[key] = [t for t in tasks if targets(t, branch)]
        for task in applying[key]:
            _task_rows(ledger, task, reports[(task.id, branch.id)], states.get((task.id, branch.id)),
                           evidence, names, today)
        for m in meetings[branch.id]:
            _meeting_row(ledger, m, names)
        for c in checkins[branch.id]:
            ledger.checkins += 1
            ledger.rows.append(("签到", str(c.day)[:7], f"流动党员 {c.name}（{c.outflow_city or ''}）",
                                fmt(c.day), "已签到", fmt(c.received_at), c.name,
                                c.note or (c.label or ""), "", ""))
        ledgers.append(ledger)
    return ledgers


def _task_rows(ledger: BranchLedger, task: Task, versions: list[Report], state, evidence,
               names: dict[int, str], today: date) -> None:
    ledger.tasks_due += 1
    status = state.status if state else "open"
    if not versions:
        late = task.deadline < today
        ledger.overdue += late
        ledger.rows.append(("任务", task.month, f"{int(task.month[5:])}月第{task.number}项 {task.title}",
                            fmt(task.deadline), "逾期未报" if late else "未上报", "", "", "", "",
                            "逾期未报" if late else ""))
        return
    first, label = versions[0], f"{int(task.month[5:])}月第{task.number}项 {task.title}"
    if status == REPORTED:
        ledger.reported += 1
        ledger.on_time += first.received_at.date() <= task.deadline
    for version in versions:
        marks = []
        if version.received_at.date() > task.deadline:
            marks.append(f"逾期上报（截止 {fmt(task.deadline)}）")
        if version.kind == "correction":
            marks.append("更正")
            ledger.corrected += 1
        if version.superseded_by:
            marks.append("已被更正或重报，以后一条为准")
        files = "；".join(f"{e.file_name}（sha256 {e.sha256}）" if e.sha256 else f"{e.file_name}（未下载）"
                         for e in evidence[version.id])
        shown = {REPORTED: "已上报", RETURNED: "被退回"}.get(status, "未上报") \
            if version is versions[-1] else "历史版本"
        if version is versions[-1] and status == RETURNED:
            marks.append(f"退回原因：{state.return_reason}")
        ledger.rows.append(("任务", task.month, label, fmt(task.deadline), shown, fmt(version.received_at),
                            names.get(version.member_id, ""), version.note, files, "；".join(marks)))


def _meeting_row(ledger: BranchLedger, m: Meeting, names: dict[int, str]) -> None:
    ledger.meetings += 1
    lag = (m.received_at.date() - m.held_on).days
    backfilled = lag > BACKFILL_DAYS
    ledger.backfilled += backfilled
    attendance = f"出席 {m.attended}/{m.expected}" if m.attended is not None else ""
    ledger.rows.append(("会议", str(m.held_on)[:7], m.kind, fmt(m.held_on), attendance,
                        fmt(m.received_at), names.get(m.member_id, ""), m.note,
                        "", f"补记录（会后 {lag} 天登记）" if backfilled else ""))
