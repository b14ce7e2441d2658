"""述职评议: a year's record per branch and its secretary, in one place
(issue 14). Every figure is counted from the branch's ledger for the same
months (storage/ledger.py: the rows its sheet shows), or from the records
the review's 依据 sheet lists beside it (volunteer service, the
development register, rectification items) — never typed, never from
activity counts beyond what the rules ask for."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.bulletin import MONTHLY_MEETINGS, QUARTERLY_MEETINGS
from storage.development import records_of, stage_of
from storage.ledger import BranchLedger, build_ledgers
from storage.models import Development, Member, Organization, Volunteer
from storage.month import Month, Year, span
from storage.rectification import Item, flags, items_of
from storage.tasks import RETURNED
from storage.terms import SECRETARY


@dataclass
class VolunteerRecord:
    day: date
    member_name: str
    hours: float
    note: str


@dataclass
class BranchReview:
    branch: Organization
    committee: str
    secretaries: list[str]
    ledger: BranchLedger
    months: list[Month]
    returned: int = 0
    quota: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind → (periods held, periods due)
    mobile_members: int = 0
    mobile_reached: int = 0     # member-months with a check-in
    mobile_due: int = 0         # member-months
    volunteer: list[VolunteerRecord] = field(default_factory=list)
    development: list[Development] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    flagged: list = field(default_factory=list)

    @property
    def volunteer_hours(self) -> float:
        return round(sum(v.hours for v in self.volunteer), 1)

    @property
    def on_time_rate(self) -> float:
        return self.ledger.on_time / self.ledger.tasks_due if self.ledger.tasks_due else 1.0

    def joined_in_year(self, stage_field: str) -> int:
        year = self.months[0].year
        return sum(1 for d in self.development if (day := getattr(d, stage_field)) and day.year == year)

    def stage_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for d in self.development:
            counts[stage_of(d) or ""] += 1
        return counts


def build_reviews(session: Session, branches: list[Organization], year: Year, today: date) -> list[BranchReview]:
    """The year (up to today's month, for the current year) of each branch."""
    months = [m for m in year.months if m.first_day <= today] or [year.months[0]]
    ledgers = build_ledgers(session, branches, months[0], months[-1], today)
    start, end = span(months[0], months[-1])
    ids = [b.id for b in branches]
    parents = dict(session.execute(select(Organization.id, Organization.name)).all())
    secretaries: dict[int, list[str]] = defaultdict(list)
    mobile: dict[int, int] = defaultdict(int)
    member_branch: dict[int, int] = {}
    names: dict[int, str] = {}
    for m in session.scalars(select(Member).where(Member.org_id.in_(ids), Member.active).order_by(Member.id)):
        member_branch[m.id], names[m.id] = m.org_id, m.name
        if m.role == SECRETARY:
            secretaries[m.org_id].append(m.name)
        mobile[m.org_id] += m.is_mobile
    volunteer: dict[int, list[VolunteerRecord]] = defaultdict(list)
    for v in session.scalars(select(Volunteer).where(Volunteer.day >= start, Volunteer.day < end,
                                                     Volunteer.member_id.in_(list(member_branch)))
                             .order_by(Volunteer.day, Volunteer.id)):
        volunteer[member_branch[v.member_id]].append(VolunteerRecord(v.day, names.get(v.member_id, ""), v.hours,
                                                                     v.note))
    development: dict[int, list[Development]] = defaultdict(list)
    for d in records_of(session, ids):
        development[d.branch_id].append(d)
    items: dict[int, list[Item]] = defaultdict(list)
    for item in items_of(session, ids):
        if item.task.deadline >= start and item.item.received_at.date() < end:
            items[item.item.branch_id].append(item)
    flagged: dict[int, list] = defaultdict(list)
    for f in flags(session, ids, open_only=False):
        if f.flagged_at.date() < end and (f.lifted_at is None or f.lifted_at.date() >= start):
            flagged[f.branch_id].append(f)
    reviews = []
    for branch, ledger in zip(branches, ledgers, strict=True):
        r = BranchReview(branch, parents.get(branch.parent_id, ""), secretaries[branch.id], ledger, months,
                         volunteer=volunteer[branch.id], development=development[branch.id],
                         items=items[branch.id], flagged=flagged[branch.id])
        r.returned = sum(1 for t in ledger.tasks
                         if t.state == RETURNED or sum(not v.correction for v in t.versions) > 1)
        r.quota = _quota(ledger, months)
        r.mobile_members = mobile[branch.id]
        r.mobile_due = mobile[branch.id] * len(months)
        r.mobile_reached = len({(c.member_name, Month.of(c.day)) for c in ledger.checkins})
        reviews.append(r)
    return reviews


def _quota(ledger: BranchLedger, months: list[Month]) -> dict[str, tuple[int, int]]:
    """三会一课 per kind: (months or quarters it was held in, months or
    quarters that owed it) — from the ledger's meetings."""
    held: dict[str, set[Month]] = defaultdict(set)
    for m in ledger.meetings:
        held[m.kind].add(Month.of(m.held_on))
    quarters = sorted({m.quarter_first for m in months if m.ends_quarter})
    out = {kind: (len(held[kind] & set(months)), len(months)) for kind in MONTHLY_MEETINGS}
    for kind in QUARTERLY_MEETINGS:
        done = sum(1 for q in quarters if held[kind] & {q, q.next(), q.shift(2)})
        out[kind] = (done, len(quarters))
    return out
