"""The bulletin's figures (通报), for a month, a quarter or a year — the
same rules for each (issue 14). Rankings use outcomes only — tasks
done on time — never activity counts or online time (基层减负); points
(积分) are shown to find members to follow up, not to rank anyone."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.development import without_new_member
from storage.models import Assignment, CheckIn, Meeting, Member, Organization, Rectification, Report, Task
from storage.month import Month, Period, span
from storage.rectification import flags
from storage.terms import overdue_terms, without_secretary
from storage.orgs import targets
from storage.people import member_stats
from storage.points import points

MONTHLY_MEETINGS = ("支委会", "党小组会", "主题党日")  # 主题党日: one fixed day a month (issue 12)
QUARTERLY_MEETINGS = ("党员大会", "党课")


class OverdueTask(NamedTuple):
    """A task of the period not reported by its deadline."""
    number: int
    title: str
    month: Month | None = None  # its month, in a quarter's or a year's bulletin


class MissingMeeting(NamedTuple):
    """A meeting kind short of its 三会一课 quota."""
    kind: str
    quarterly: bool  # owed once a quarter (judged in its last month), not monthly
    times: int = 1   # months (quarters, for a quarterly kind) short, in a longer period


@dataclass
class BranchScore:
    branch: Organization
    due: int = 0
    on_time: int = 0
    late: int = 0
    overdue: list[OverdueTask] = field(default_factory=list)
    missing_meetings: list[MissingMeeting] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.on_time / self.due if self.due else 1.0


@dataclass
class Bulletin:
    period: Period
    branches: list[BranchScore]
    committees: list[tuple[Organization, int, int]]  # (committee, on time, due)
    not_checked_in: list[tuple[Member, Organization]]
    zero_point: list[tuple[Member, Organization]]
    points: dict[int, int]
    months_missed: dict[int, int] = field(default_factory=dict)  # member id → months with no check-in
    # The registers (issue 14): states, not activity counts.
    no_new_member: list[tuple[Organization, date | None]] = field(default_factory=list)
    overdue_terms: list[Organization] = field(default_factory=list)
    vacant: list[Organization] = field(default_factory=list)
    rectifying: list[tuple[Organization, Rectification]] = field(default_factory=list)

    @property
    def month(self) -> Period:  # the name of the period before quarters and years
        return self.period

    @property
    def single_month(self) -> bool:
        return len(self.period.months) == 1


def build_bulletin(session: Session, branches: list[Organization], period: Period, today: date) -> Bulletin:
    """The bulletin of `period` (a Month, Quarter or Year) for `branches`;
    the months after today's are not judged yet."""
    months = [m for m in period.months if m.first_day <= today] or [period.months[0]]
    start, end = span(months[0], months[-1])
    multi = len(period.months) > 1
    tasks = session.scalars(select(Task).where(Task.month.in_([str(m) for m in months]))
                            .order_by(Task.month, Task.number)).all()
    first_report = {(task_id, branch_id): at for task_id, branch_id, at in session.execute(
        select(Report.task_id, Report.branch_id, func.min(Report.received_at))
        .where(Report.task_id.in_([t.id for t in tasks])).group_by(Report.task_id, Report.branch_id))}
    meetings = _meeting_kinds(session, months)
    own = {(a, b): d for a, b, d in session.execute(  # deadlines moved by an extension, per branch
        select(Assignment.task_id, Assignment.branch_id, Assignment.deadline).where(
            Assignment.task_id.in_([t.id for t in tasks]), Assignment.deadline.is_not(None)))}
    scores = []
    for branch in branches:
        score = BranchScore(branch)
        for task in (t for t in tasks if targets(t, branch)):
            score.due += 1
            reported = first_report.get((task.id, branch.id))
            deadline = own.get((task.id, branch.id), task.deadline)
            if reported and reported.date() <= deadline:
                score.on_time += 1
            elif reported:
                score.late += 1
            elif deadline < today:
                score.overdue.append(OverdueTask(task.number, task.title, Month.iso(task.month) if multi else None))
        score.missing_meetings = _missing_in(meetings.get(branch.id, {}), months)
        scores.append(score)
    scores.sort(key=lambda s: (-s.rate, -s.due, s.branch.code))
    members = _members(session, [b.id for b in branches])
    points = _points(session, months[0], start, end)
    checked: dict[int, set[Month]] = defaultdict(set)
    for member_id, day in session.execute(select(CheckIn.member_id, CheckIn.day)
                                          .where(CheckIn.day >= start, CheckIn.day < end)):
        checked[member_id].add(Month.of(day))
    by_id = {b.id: b for b in branches}
    missed = {m.id: len(months) - len(checked[m.id]) for m in members if m.is_mobile}
    not_checked = [(m, by_id[m.org_id]) for m in members if m.is_mobile and missed[m.id]]
    zero = [(m, by_id[m.org_id]) for m in members if points.get(m.id, 0) <= 0]  # everyone, issue 12
    return Bulletin(period, scores, _committees(session, scores), not_checked, zero, points,
                    {m.id: missed[m.id] for m, _ in not_checked},
                    without_new_member(session, branches, today), overdue_terms(session, branches, today),
                    without_secretary(session, branches),
                    [(by_id[f.branch_id], f) for f in flags(session, list(by_id))])


def _missing_in(held: dict[str, set[Month]], months: list[Month]) -> list[MissingMeeting]:
    """The 三会一课 quota over several months: each kind once, with how many
    months (quarters) it was short."""
    short: dict[tuple[str, bool], int] = defaultdict(int)
    for month in months:
        quarter = {kind: {m for m in held_in if m.quarter_first == month.quarter_first and m <= month}
                   for kind, held_in in held.items()}
        for m in _missing(quarter, month):
            short[(m.kind, m.quarterly)] += 1
    return [MissingMeeting(kind, quarterly, times) for (kind, quarterly), times in short.items()]


def _meeting_kinds(session: Session, months: list[Month]) -> dict[int, dict[str, set[Month]]]:
    """branch id → meeting kind → months it was held in, from the first
    month's quarter to the last month."""
    start, end = span(months[0].quarter_first, months[-1])
    held: dict[int, dict[str, set[Month]]] = defaultdict(lambda: defaultdict(set))
    for branch_id, kind, day in session.execute(select(Meeting.branch_id, Meeting.kind, Meeting.held_on)
                                                .where(Meeting.held_on >= start, Meeting.held_on < end)):
        held[branch_id][kind].add(Month.of(day))
    return held


def _missing(held: dict[str, set[Month]], month: Month) -> list[MissingMeeting]:
    """三会一课 quota: 支委会 and 党小组会 each month; 党员大会 and 党课 each quarter
    (judged in the quarter's last month)."""
    missing = [MissingMeeting(kind, False) for kind in MONTHLY_MEETINGS if month not in held.get(kind, set())]
    if month.ends_quarter:
        missing += [MissingMeeting(kind, True) for kind in QUARTERLY_MEETINGS if not held.get(kind)]
    return missing


def _members(session: Session, branch_ids: list[int]) -> list[Member]:
    return list(session.scalars(select(Member).where(Member.org_id.in_(branch_ids), Member.active)
                                .order_by(Member.org_id, Member.id)))


def _points(session: Session, month: Month, start: date, end: date) -> dict[int, int]:
    """Points by the configured rules, from the records (storage/points.py):
    taking part, never typing a record."""
    return {member_id: points(stats) for member_id, stats in member_stats(session, start, end).items()}


def _committees(session: Session, scores: list[BranchScore]) -> list[tuple[Organization, int, int]]:
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for s in scores:
        totals[s.branch.parent_id][0] += s.on_time
        totals[s.branch.parent_id][1] += s.due
    orgs = {o.id: o for o in session.scalars(select(Organization).where(Organization.id.in_(list(totals))))}
    ranked = [(orgs[i], on_time, due) for i, (on_time, due) in totals.items() if i in orgs]
    return sorted(ranked, key=lambda r: (-(r[1] / r[2] if r[2] else 1.0), r[0].code))
