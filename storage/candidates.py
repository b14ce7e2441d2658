"""Candidates for 软弱涣散 (issue 14), suggested monthly to the org
department from the records of the last three full months: tasks overdue
in two or more of them, the 三会一课 quota missed in two or more, a vacant
书记 post, no new member in three years, mobile members not reached (no
check-in, 代签 included) in all three. Branches already under
rectification are left out. Reasons are kinds and figures; the words are
the push's."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.bulletin import MONTHLY_MEETINGS, QUARTERLY_MEETINGS
from storage.development import without_new_member
from storage.models import CheckIn, Meeting, Member, Organization, Report, Task
from storage.month import Month, span
from storage.orgs import targets
from storage.rectification import flags
from storage.terms import without_secretary

WINDOW = 3          # months looked back
MONTHS_NEEDED = 2   # overdue / quota missed in this many of them
OVERDUE, QUOTA, VACANT, NO_NEW, UNREACHED = "overdue", "quota", "vacant", "no-new-member", "unreached"


@dataclass
class Candidate:
    branch: Organization
    reasons: dict[str, object] = field(default_factory=dict)  # kind → months / names / last date


def window(month: Month) -> list[Month]:
    """The WINDOW full months before `month`."""
    return [month.shift(-i) for i in range(WINDOW, 0, -1)]


def candidates(session: Session, branches: list[Organization], month: Month, today: date) -> list[Candidate]:
    months = window(month)
    start, end = span(months[0], months[-1])
    found = {b.id: Candidate(b) for b in branches}
    for branch_id, late in _overdue_months(session, branches, months, today).items():
        if len(late) >= MONTHS_NEEDED:
            found[branch_id].reasons[OVERDUE] = sorted(late)
    for branch_id, missed in _quota_missed(session, branches, months).items():
        if len(missed) >= MONTHS_NEEDED:
            found[branch_id].reasons[QUOTA] = sorted(missed)
    for b in without_secretary(session, branches):
        found[b.id].reasons[VACANT] = True
    for b, last in without_new_member(session, branches, today):
        found[b.id].reasons[NO_NEW] = last
    reached = set(session.scalars(select(CheckIn.member_id).where(CheckIn.day >= start, CheckIn.day <= today)))
    for m in session.scalars(select(Member).where(Member.org_id.in_(list(found)), Member.active, Member.is_mobile)
                             .order_by(Member.id)):
        if m.id not in reached:
            found[m.org_id].reasons.setdefault(UNREACHED, []).append(m.name)
    flagged = {f.branch_id for f in flags(session, list(found))}
    return [c for c in found.values() if c.reasons and c.branch.id not in flagged]


def _overdue_months(session: Session, branches: list[Organization], months: list[Month],
                    today: date) -> dict[int, set[Month]]:
    """branch id → the months of `months` with a task it reported late or not at all."""
    tasks = session.scalars(select(Task).where(Task.month.in_([str(m) for m in months]))).all()
    first = {(t, b): at for t, b, at in session.execute(
        select(Report.task_id, Report.branch_id, func.min(Report.received_at))
        .where(Report.task_id.in_([t.id for t in tasks])).group_by(Report.task_id, Report.branch_id))}
    late: dict[int, set[Month]] = defaultdict(set)
    for branch in branches:
        for task in tasks:
            if task.deadline >= today or not targets(task, branch):
                continue
            at = first.get((task.id, branch.id))
            if at is None or at.date() > task.deadline:
                late[branch.id].add(Month.iso(task.month))
    return late


def _quota_missed(session: Session, branches: list[Organization], months: list[Month]) -> dict[int, set[Month]]:
    """branch id → the months of `months` short of the 三会一课 quota (monthly
    kinds each month; quarterly kinds judged in a quarter's last month)."""
    start, end = span(months[0].quarter_first, months[-1])
    held: dict[int, set[tuple[str, Month]]] = defaultdict(set)
    for branch_id, kind, day in session.execute(select(Meeting.branch_id, Meeting.kind, Meeting.held_on)
                                                .where(Meeting.held_on >= start, Meeting.held_on < end)):
        held[branch_id].add((kind, Month.of(day)))
    missed: dict[int, set[Month]] = defaultdict(set)
    for branch in branches:
        mine = held.get(branch.id, set())
        for month in months:
            short = any((kind, month) not in mine for kind in MONTHLY_MEETINGS)
            if month.ends_quarter:
                quarter = {month.quarter_first, month.quarter_first.next(), month}
                short = short or any(not any((kind, m) in mine for m in quarter) for kind in QUARTERLY_MEETINGS)
            if short:
                missed[branch.id].add(month)
    return missed
