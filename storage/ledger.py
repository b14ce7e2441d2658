"""The ledger (台账) as records: per branch, every task with every version of
its report, every meeting and every mobile member's check-in, each with the
server time it was received. Loaded in a handful of bulk queries, so a
county's year costs the same number of queries as one branch's month.

A record carries the flags that say where it is not what it seems at first
sight: reported after the deadline (`late`), a correction, superseded by a
later version, returned, or logged days after the event it describes
(`backfilled`) — so no made-up record can look like a timely one. The words
for these are handlers/render/ledger.py's business."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from storage.models import (Assignment, CheckIn, Evidence, Meeting, Member, Organization, Rectification,
                            RectificationItem, Report, Task)
from storage.month import Month, span
from storage.orgs import targets
from storage.tasks import OPEN, REPORTED

# A meeting logged more than this many days after it was held is back-filled
# (补记录). The one rule: the chat reply to 会议 uses it too.
BACKFILL_DAYS = 3

# Records are NamedTuples: a county-year is ~116,000 of them, and a tuple
# costs a fraction of a dataclass instance in time and memory.


class TaskInfo(NamedTuple):
    """One task, shared by every branch's record of it."""
    id: int
    month: Month
    number: int
    title: str
    deadline: date


class EvidenceFile(NamedTuple):
    file_name: str
    sha256: str | None  # None until the file has been downloaded


class ReportVersion(NamedTuple):
    received_at: datetime
    member_name: str
    note: str
    evidence: tuple[EvidenceFile, ...]
    late: bool        # received after the task's deadline
    correction: bool  # sent as 更正 of an earlier version
    superseded: bool  # a later correction or report replaces it


class Closure(NamedTuple):
    """A rectification item's 销号 (closed_at None: still open)."""
    closed_at: datetime | None
    note: str


class TaskRecord(NamedTuple):
    task: TaskInfo
    state: str                         # open | reported | returned (storage.tasks)
    versions: tuple[ReportVersion, ...]  # oldest first; the last one counts
    overdue: bool                      # nothing reported and the deadline has passed
    return_reason: str | None
    rectification: Closure | None = None  # a rectification item (整改事项): closed or not


class FlagRecord(NamedTuple):
    """软弱涣散: when the branch was flagged and why, and its lifting."""
    flagged_at: datetime
    reason: str
    member_name: str
    lifted_at: datetime | None
    lift_note: str


class MeetingRecord(NamedTuple):
    kind: str
    held_on: date
    received_at: datetime
    attended: int | None
    expected: int | None
    member_name: str
    note: str
    lag_days: int     # days between the meeting and its logging
    backfilled: bool  # lag_days > BACKFILL_DAYS


class CheckInRecord(NamedTuple):
    day: date
    received_at: datetime
    member_name: str
    city: str         # where the mobile member works (流入地), "" if unknown
    note: str
    label: str        # the place name WeCom sent with a location, "" if none


@dataclass
class BranchLedger:
    branch: Organization
    tasks: list[TaskRecord] = field(default_factory=list)
    meetings: list[MeetingRecord] = field(default_factory=list)
    checkins: list[CheckInRecord] = field(default_factory=list)
    flags: list[FlagRecord] = field(default_factory=list)
    tasks_due: int = 0
    reported: int = 0
    on_time: int = 0
    overdue: int = 0
    backfilled: int = 0
    corrected: int = 0


def build_ledgers(session: Session, branches: list[Organization], first: Month, last: Month,
                  today: date) -> list[BranchLedger]:
    start, end = span(first, last)
    # Plain rows throughout: a county-year is ~100,000 records, and ORM
    # objects would cost more than writing the workbook.
    run = session.connection().execute
    tasks = run(select(Task.__table__).where(Task.month >= str(first), Task.month <= str(last))
                .order_by(Task.month, Task.number)).all()
    task_ids = [t.id for t in tasks]
    infos = {t.id: TaskInfo(t.id, Month.iso(t.month), t.number, t.title, t.deadline) for t in tasks}
    names = dict(run(select(Member.id, Member.name)).all())
    evidence: dict[int, list[EvidenceFile]] = defaultdict(list)
    for e in run(select(Evidence.report_id, Evidence.file_name, Evidence.sha256)
                 .join(Report, Evidence.report_id == Report.id).where(Report.task_id.in_(task_ids))):
        evidence[e.report_id].append(EvidenceFile(e.file_name, e.sha256))
    versions: dict[tuple[int, int], list[ReportVersion]] = defaultdict(list)
    corrections: dict[tuple[int, int], int] = defaultdict(int)
    for r in run(select(Report.id, Report.task_id, Report.branch_id, Report.member_id, Report.note, Report.kind,
                        Report.superseded_by, Report.received_at)
                 .where(Report.task_id.in_(task_ids)).order_by(Report.id)).all():
        key, correction = (r.task_id, r.branch_id), r.kind == "correction"
        versions[key].append(ReportVersion(
            r.received_at, names.get(r.member_id, ""), r.note, tuple(evidence.get(r.id, ())),
            r.received_at.date() > infos[r.task_id].deadline, correction, r.superseded_by is not None))
        if correction:
            corrections[key] += 1
    # Only the columns used: a county-year has ~60,000 assignments, and each
    # unused datetime column would be parsed for every one of them.
    states = {(a.task_id, a.branch_id): a for a in run(
        select(Assignment.task_id, Assignment.branch_id, Assignment.state, Assignment.return_reason)
        .where(Assignment.task_id.in_(task_ids)))}
    meetings = defaultdict(list)
    for m in run(select(Meeting.__table__).where(Meeting.held_on >= start, Meeting.held_on < end)
                 .order_by(Meeting.held_on)).all():
        lag = (m.received_at.date() - m.held_on).days
        meetings[m.branch_id].append(MeetingRecord(
            m.kind, m.held_on, m.received_at, m.attended, m.expected, names.get(m.member_id, ""),
            m.note, lag, lag > BACKFILL_DAYS))
    checkins = defaultdict(list)
    for c in run(select(CheckIn.day, CheckIn.received_at, CheckIn.note, CheckIn.label, Member.name,
                        Member.inflow_city, Member.org_id).join(Member, CheckIn.member_id == Member.id)
                 .where(CheckIn.day >= start, CheckIn.day < end, Member.is_mobile).order_by(CheckIn.day)):
        checkins[c.org_id].append(CheckInRecord(c.day, c.received_at, c.name, c.inflow_city or "",
                                                c.note or "", c.label or ""))
    closures = {i.task_id: Closure(i.closed_at, i.close_note or "") for i in run(
        select(RectificationItem.task_id, RectificationItem.closed_at, RectificationItem.close_note)
        .where(RectificationItem.task_id.in_(task_ids)))}
    flags = defaultdict(list)
    for f in run(select(Rectification.__table__).where(Rectification.flagged_at < datetime.combine(end, datetime.min.time()))
                 .order_by(Rectification.flagged_at)):
        if f.lifted_at is None or f.lifted_at.date() >= start:
            flags[f.branch_id].append(FlagRecord(f.flagged_at, f.reason, names.get(f.flagged_by, ""), f.lifted_at,
                                                 f.lift_note or ""))
    ledgers, applying = [], {}
    by_code = any(t.target_kind == "codes" for t in tasks)
    for branch in branches:
        ledger = BranchLedger(branch, meetings=meetings[branch.id], checkins=checkins[branch.id],
                              flags=flags[branch.id])
        key = (branch.category, branch.code) if by_code else branch.category
        if key not in applying:  # branches of one 领域 share their task list
            applying[key] = [infos[t.id] for t in tasks if targets(t, branch)]
        _add_tasks(ledger, applying[key], versions, states, corrections, today, closures)
        ledger.backfilled = sum(m.backfilled for m in ledger.meetings)
        ledgers.append(ledger)
    return ledgers


def _add_tasks(ledger: BranchLedger, tasks: list[TaskInfo], versions: dict[tuple[int, int], list[ReportVersion]],
               states: dict[tuple[int, int], Row], corrections: dict[tuple[int, int], int], today: date,
               closures: dict[int, Closure] | None = None) -> None:
    """A branch's task records and their counts (one loop, counted in
    locals: ~68,000 task records a county-year)."""
    records, branch_id = ledger.tasks, ledger.branch.id
    reported = on_time = overdue_count = corrected = 0
    for task in tasks:
        key = (task.id, branch_id)
        found = versions.get(key, ())
        assignment = states.get(key)
        state, reason = (assignment.state, assignment.return_reason) if assignment else (OPEN, None)
        overdue = not found and task.deadline < today
        if overdue:
            overdue_count += 1
        elif found:
            if state == REPORTED:
                reported += 1
                on_time += not found[0].late
            corrected += corrections.get(key, 0)
        records.append(TaskRecord(task, state, tuple(found), overdue, reason,
                                  closures.get(task.id) if closures else None))
    ledger.tasks_due += len(tasks)
    ledger.reported += reported
    ledger.on_time += on_time
    ledger.overdue += overdue_count
    ledger.corrected += corrected
