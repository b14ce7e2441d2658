"""The ledger (台账) as records: per branch, every task with every version of
its report, every meeting and every mobile member's check-in, each with the
server time it was received; and per member of the branch (党员简历) every
record of their own — meetings by roll, check-ins (代签 too), remote
主题党日, volunteer service with its photos, study — with the period's figures. Loaded in a handful of bulk queries, so a
county's year costs the same number of queries as one branch's month.

A record carries the flags that say where it is not what it seems at first
sight: reported after the deadline (`late`), a correction, superseded by a
later version, returned, or logged days after the event it describes
(`backfilled`) — so no made-up record can look like a timely one. The words
for these are handlers/render/ledger.py's business."""
from __future__ import annotations

from collections import Counter, defaultdict
from operator import attrgetter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from storage.models import (ABSENT, PRESENT, Assignment, Attendance, CheckIn, CommunityRegistration, Evidence, Meeting,
                            Member, Organization, Rectification, RectificationItem, RemoteParticipation, Report, Study,
                            Task, Volunteer)
from storage.meetings import BACKFILL_DAYS, is_backfilled
from storage.month import Month, span
from storage.orgs import targets
from storage.people import THEME_DAY, Stats
from storage.tasks import OPEN, REPORTED

_NO_ASSIGNMENT = (OPEN, None, None, None)  # a task nobody reported, returned or acknowledged yet
_WHEN = attrgetter("day", "received_at")  # a member's records in the order they happened

# Up to this many branches, the member part reads only their members' records
# (through a subquery); a bigger export reads the period's records whole.
SCOPED_BRANCHES = 200

# BACKFILL_DAYS (补记录) is storage.meetings': one rule for every view.

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
    backfill_lag: int = 0  # the version is a meeting logged this many days after it (补记录), else 0


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
    acknowledged_at: datetime | None = None  # 收到, by a card's button or 收到 N
    deadline: date | None = None             # this branch's, where an extension moved it
    rectification: Closure | None = None     # a rectification item (整改事项): closed or not


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
    proxy_by: str = ""  # 代签: the name of who checked in for the member, "" if the member did


# The kinds of a member's own records (党员简历), in the order a day's are listed.
MEETING, CHECKIN, REMOTE, VOLUNTEER, STUDY = "meeting", "checkin", "remote", "volunteer", "study"


class MemberEntry(NamedTuple):
    """One record of one member (党员简历), whoever typed it."""
    kind: str               # MEETING | CHECKIN | REMOTE | VOLUNTEER | STUDY
    day: date               # the meeting's date, the day checked in / served / studied
    received_at: datetime   # when the server received the record
    detail: str             # a meeting's kind; the 主题党日 theme taken part in remotely; "" otherwise
    status: str             # a meeting: present | absent | excused; remote: study | checkin; "" otherwise
    typed_by: str           # the name of who typed it (the secretary for a meeting or a 代签)
    note: str
    hours: float = 0.0      # volunteer service
    evidence: int = 0       # photos or files sent after a volunteer record
    community: str = ""     # volunteer service also counted for this 双报到 community
    lag_days: int = 0       # a meeting logged this many days after it was held
    backfilled: bool = False  # … more than BACKFILL_DAYS: 补记录
    proxy: bool = False     # a 代签 check-in


@dataclass
class MemberLedger:
    """A member's part of the ledger (党员简历): who they are, every record of
    the period, and the period's figures (the same as 我的 and the points)."""
    id: int
    name: str
    role: str
    status: str
    is_mobile: bool
    city: str              # 流入地 of a mobile member, "" if none
    phone: str | None      # personal data: masked by whoever shows it
    community: str         # the 双报到 community's name, "" if none
    active: bool
    entries: list[MemberEntry] = field(default_factory=list)
    stats: Stats = field(default_factory=Stats)


class ServiceRecord(NamedTuple):
    """Volunteer service a member of any branch counted for a community (双报到)."""
    day: date
    received_at: datetime
    member_name: str
    member_branch: str
    hours: float
    note: str
    evidence: int


@dataclass
class BranchLedger:
    branch: Organization
    tasks: list[TaskRecord] = field(default_factory=list)
    meetings: list[MeetingRecord] = field(default_factory=list)
    checkins: list[CheckInRecord] = field(default_factory=list)
    members: list[MemberLedger] = field(default_factory=list)
    community_service: list[ServiceRecord] = field(default_factory=list)  # 双报到 hours, a community's
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
    # Rows unpacked by position (a county-year: ~66,000 reports, ~60,000
    # assignments; attribute access on each Row costs more than the unpacking).
    deadlines = {t.id: t.deadline for t in tasks}
    # A duty completed by a meeting logged days after it was held is 补记录
    # too: only the reports made by a meeting are read for it (a few per branch).
    late_meetings = {meeting_id: (received.date() - held).days for meeting_id, held, received in run(
        select(Meeting.id, Meeting.held_on, Meeting.received_at).join(Report, Report.meeting_id == Meeting.id)
        .where(Report.task_id.in_(task_ids))) if is_backfilled(held, received)}
    for report_id, task_id, branch_id, member_id, note, kind, superseded_by, received_at, meeting_id in run(
            select(Report.id, Report.task_id, Report.branch_id, Report.member_id, Report.note, Report.kind,
                   Report.superseded_by, Report.received_at, Report.meeting_id)
            .where(Report.task_id.in_(task_ids)).order_by(Report.id)):
        key, correction = (task_id, branch_id), kind == "correction"
        versions[key].append(ReportVersion(
            received_at, names.get(member_id, ""), note, tuple(evidence.get(report_id, ())),
            received_at.date() > deadlines[task_id], correction, superseded_by is not None,
            late_meetings.get(meeting_id, 0) if meeting_id else 0))
        if correction:
            corrections[key] += 1
    # Only the columns used: a county-year has ~60,000 assignments, and each
    # unused datetime column would be parsed for every one of them.
    states = {(task_id, branch_id): (state, reason, acknowledged, own)
              for task_id, branch_id, state, reason, acknowledged, own in run(
        select(Assignment.task_id, Assignment.branch_id, Assignment.state, Assignment.return_reason,
               Assignment.acknowledged_at, Assignment.deadline)
        .where(Assignment.task_id.in_(task_ids)))}
    meetings = defaultdict(list)
    for m in run(select(Meeting.__table__).where(Meeting.held_on >= start, Meeting.held_on < end)
                 .order_by(Meeting.held_on)).all():
        lag = (m.received_at.date() - m.held_on).days
        meetings[m.branch_id].append(MeetingRecord(
            m.kind, m.held_on, m.received_at, m.attended, m.expected, names.get(m.member_id, ""),
            m.note, lag, lag > BACKFILL_DAYS))
    checkins = defaultdict(list)
    for c in run(select(CheckIn.day, CheckIn.received_at, CheckIn.note, CheckIn.label, CheckIn.proxy_by,
                        Member.name, Member.inflow_city, Member.org_id).join(Member, CheckIn.member_id == Member.id)
                 .where(CheckIn.day >= start, CheckIn.day < end, Member.is_mobile).order_by(CheckIn.day)):
        checkins[c.org_id].append(CheckInRecord(c.day, c.received_at, c.name, c.inflow_city or "",
                                                c.note or "", c.label or "", names.get(c.proxy_by, "")))
    members, service = _member_records(session, {b.id for b in branches}, names, start, end)
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
                              members=members[branch.id], community_service=service[branch.id],
                              flags=flags[branch.id])
        key = (branch.category, branch.code) if by_code else branch.category
        if key not in applying:  # branches of one 领域 share their task list
            applying[key] = [infos[t.id] for t in tasks if targets(t, branch)]
        _add_tasks(ledger, applying[key], versions, states, corrections, today, closures)
        ledger.backfilled = sum(m.backfilled for m in ledger.meetings)
        ledgers.append(ledger)
    return ledgers


def _add_tasks(ledger: BranchLedger, tasks: list[TaskInfo], versions: dict[tuple[int, int], list[ReportVersion]],
               states: dict[tuple[int, int], tuple], corrections: dict[tuple[int, int], int], today: date,
               closures: dict[int, Closure] | None = None) -> None:
    """A branch's task records and their counts (one loop, counted in
    locals: ~68,000 task records a county-year)."""
    records, branch_id = ledger.tasks, ledger.branch.id
    reported = on_time = overdue_count = corrected = 0
    for task in tasks:
        key = (task.id, branch_id)
        found = versions.get(key, ())
        state, reason, acknowledged, own = states.get(key, _NO_ASSIGNMENT)
        if own and found:  # late against this branch's own (extended) deadline
            found = tuple(v._replace(late=v.received_at.date() > own) for v in found)
        overdue = not found and (own or task.deadline) < today
        if overdue:
            overdue_count += 1
        elif found:
            if state == REPORTED:
                reported += 1
                on_time += not found[0].late
            corrected += corrections.get(key, 0)
        closure = closures.get(task.id) if closures else None
        if own or acknowledged or closure:
            records.append(TaskRecord(task, state, tuple(found), overdue, reason, acknowledged, own, closure))
        else:
            records.append(TaskRecord(task, state, tuple(found), overdue, reason))
    ledger.tasks_due += len(tasks)
    ledger.reported += reported
    ledger.on_time += on_time
    ledger.overdue += overdue_count
    ledger.corrected += corrected


def _member_records(session: Session, branch_ids: set[int], names: dict[int, str], start: date,
                    end: date) -> tuple[dict[int, list[MemberLedger]], dict[int, list[ServiceRecord]]]:
    """Per branch, its members' parts (党员简历), and the 双报到 service
    counted for it. One query per kind of record over the whole period —
    never one per member; a few branches' export (a secretary's, the
    workbench's branch page) reads only their members' records. The
    figures are counted from the same rows, as member_stats counts them for
    我的 and the points (tests/test_member_ledger.py holds them equal)."""
    run = session.connection().execute
    ours = None
    if len(branch_ids) <= SCOPED_BRANCHES:
        ours = select(Member.id).where(Member.org_id.in_(branch_ids)).scalar_subquery()

    def only(query, member_column, *more):
        return query if ours is None else query.where(or_(member_column.in_(ours), *more))

    orgs = {o.id: o.name for o in run(select(Organization.id, Organization.name))}
    registered = dict(run(only(select(CommunityRegistration.member_id, CommunityRegistration.community_id),
                               CommunityRegistration.member_id)).all())
    entries: dict[int, list[MemberEntry]] = defaultdict(list)
    stats: dict[int, Stats] = defaultdict(Stats)
    # The biggest part (a county-year: every member on ~40 rolls): plain
    # tuples unpacked, entries built positionally, figures counted per key.
    entry, rolls = MemberEntry, Counter()
    for member_id, status, kind, held_on, received_at, typist, note in run(only(
            select(Attendance.member_id, Attendance.status, Meeting.kind, Meeting.held_on, Meeting.received_at,
                   Meeting.member_id, Meeting.note).join(Meeting, Attendance.meeting_id == Meeting.id)
            .where(Meeting.held_on >= start, Meeting.held_on < end), Attendance.member_id)):
        lag = (received_at.date() - held_on).days
        entries[member_id].append(entry(MEETING, held_on, received_at, kind, status, names.get(typist, ""),
                                        note or "", 0.0, 0, "", lag, lag > BACKFILL_DAYS, False))
        rolls[member_id, kind == THEME_DAY, status] += 1
    for (member_id, theme, status), n in rolls.items():
        st, present = stats[member_id], n if status == PRESENT else 0
        if theme:
            st.theme_held += n
            st.theme_attended += present
        else:
            st.held += n
            st.attended += present
        st.absent += n if status == ABSENT else 0
    for c in run(only(select(CheckIn.member_id, CheckIn.day, CheckIn.received_at, CheckIn.note, CheckIn.label,
                             CheckIn.proxy_by).where(CheckIn.day >= start, CheckIn.day < end), CheckIn.member_id)):
        entries[c.member_id].append(MemberEntry(
            CHECKIN, c.day, c.received_at, "", "", names.get(c.proxy_by or c.member_id, ""),
            c.note or c.label or "", proxy=c.proxy_by is not None))
        st = stats[c.member_id]
        st.checkin_days += 1
        st.checkin_months.add((c.day.year, c.day.month))
        st.proxy_checkins += c.proxy_by is not None
    for r in run(only(select(RemoteParticipation.member_id, RemoteParticipation.day, RemoteParticipation.received_at,
                             RemoteParticipation.via, Task.title, Task.theme)
                      .join(Task, RemoteParticipation.task_id == Task.id)
                      .where(RemoteParticipation.day >= start, RemoteParticipation.day < end),
                      RemoteParticipation.member_id)):
        entries[r.member_id].append(MemberEntry(REMOTE, r.day, r.received_at, r.theme or r.title, r.via,
                                                names.get(r.member_id, ""), ""))
        stats[r.member_id].theme_remote += 1
    in_period = (Volunteer.day >= start, Volunteer.day < end)
    photos = dict(run(only(select(Evidence.volunteer_id, func.count())
                           .join(Volunteer, Evidence.volunteer_id == Volunteer.id).where(*in_period)
                           .group_by(Evidence.volunteer_id), Volunteer.member_id,
                           Volunteer.community_id.in_(branch_ids))).all())
    service: dict[int, list[ServiceRecord]] = defaultdict(list)
    for v in run(only(select(Volunteer.id, Volunteer.member_id, Volunteer.day, Volunteer.hours, Volunteer.note,
                             Volunteer.community_id, Volunteer.received_at, Member.org_id)
                      .join(Member, Volunteer.member_id == Member.id).where(*in_period),
                      Volunteer.member_id, Volunteer.community_id.in_(branch_ids))):
        evidence, community = photos.get(v.id, 0), orgs.get(v.community_id, "")
        entries[v.member_id].append(MemberEntry(VOLUNTEER, v.day, v.received_at, "", "", names.get(v.member_id, ""),
                                                v.note or "", float(v.hours), evidence, community))
        stats[v.member_id].volunteer_hours += float(v.hours)
        if v.community_id in branch_ids:
            service[v.community_id].append(ServiceRecord(
                v.day, v.received_at, names.get(v.member_id, ""), orgs.get(v.org_id, ""),
                float(v.hours), v.note or "", evidence))
    study_days: dict[int, set[date]] = defaultdict(set)
    for st in run(only(select(Study.member_id, Study.day, Study.received_at, Study.content)
                       .where(Study.day >= start, Study.day < end), Study.member_id)):
        entries[st.member_id].append(MemberEntry(STUDY, st.day, st.received_at, "", "", names.get(st.member_id, ""),
                                                 st.content or ""))
        stats[st.member_id].study_sessions += 1
        study_days[st.member_id].add(st.day)
    for member_id, days in study_days.items():
        stats[member_id].study_days = len(days)
    parts: dict[int, list[MemberLedger]] = defaultdict(list)
    members = select(Member.id, Member.name, Member.role, Member.status, Member.is_mobile, Member.inflow_city,
                     Member.phone, Member.org_id, Member.active)
    if ours is not None:
        members = members.where(Member.org_id.in_(branch_ids))
    for m in run(members.order_by(Member.id)):
        if m.org_id not in branch_ids or not (m.active or m.id in entries):
            continue  # someone who left is listed only with a record in the period
        found = sorted(entries.get(m.id, ()), key=_WHEN)
        parts[m.org_id].append(MemberLedger(
            m.id, m.name, m.role, m.status, bool(m.is_mobile), m.inflow_city or "", m.phone,
            orgs.get(registered.get(m.id), ""), bool(m.active), found, stats.get(m.id) or Stats()))
    for records in service.values():
        records.sort(key=lambda r: (r.day, r.received_at))
    return parts, service
