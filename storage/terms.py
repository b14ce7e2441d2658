"""换届 and posts: each organisation's term (from the roster's 换届时间 /
届满时间), the terms whose end is near or past, and the branches with no
书记. Dates and rows only."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.development import MANY
from storage.models import BRANCH, ORG_DEPARTMENT, Member, Organization

SECRETARY = "书记"
REMIND_MONTHS = (6, 3)  # reminders before a term ends (issue 14)


def months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, d)
        except ValueError:
            continue
    raise ValueError(day)


def with_terms(session: Session) -> list[Organization]:
    """Active organisations (not the 组织部) that have a term end on record."""
    return list(session.scalars(select(Organization).where(
        Organization.active, Organization.term_end.is_not(None), Organization.type != ORG_DEPARTMENT)
        .order_by(Organization.code)))


def due_reminders(session: Session, today: date) -> list[tuple[Organization, int]]:
    """(organisation, months before the end) for each reminder whose day has
    come and whose term has not ended: the 6-month one from six months
    before, the 3-month one from three months before (the later one only,
    when both days have passed — a term imported late is not told twice)."""
    out = []
    for org in with_terms(session):
        if org.term_end <= today:
            continue
        opened = [m for m in REMIND_MONTHS if months_before(org.term_end, m) <= today]
        if opened:
            out.append((org, min(opened)))
    return out


def overdue_terms(session: Session, orgs: list[Organization], today: date) -> list[Organization]:
    """Those of `orgs` whose term has ended (listed until a new term is imported)."""
    return sorted((o for o in orgs if o.term_end is not None and o.term_end <= today),
                  key=lambda o: (o.term_end, o.code))


def without_secretary(session: Session, branches: list[Organization]) -> list[Organization]:
    """Branches with no active member whose post is 书记 (a vacant post)."""
    query = select(Member.org_id).where(Member.active, Member.role == SECRETARY).distinct()
    if len(branches) <= MANY:  # beyond: one pass over all the secretaries, no huge IN list
        query = query.where(Member.org_id.in_([b.id for b in branches]))
    held = set(session.scalars(query))
    return [b for b in branches if b.type == BRANCH and b.id not in held]
