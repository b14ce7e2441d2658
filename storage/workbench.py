"""What the workbench's overview and branch pages read: completion counts
for a span of months (due / reported / overdue per branch and month, in
three queries and arithmetic — no per-cell loop, so a 12-month line for a
county costs about what one month does), the organisation tree above the
branches, deliveries that failed or are late, extension requests waiting
for a decision, and a branch's members with their check-ins."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from storage.cards import PENDING as ASKED
from storage.models import BRANCH, Assignment, CheckIn, Delivery, ExtensionRequest, Member, Organization, Task
from storage.month import Month, span
from storage.outbox import FAILED, PENDING, SENDING
from storage.tasks import REPORTED

LATE_AFTER = timedelta(minutes=10)  # a row due this long ago and not sent is delayed


@dataclass
class Counts:
    due: int = 0
    done: int = 0
    overdue: int = 0

    @property
    def rate(self) -> float | None:
        return self.done / self.due if self.due else None


def completion(session: Session, branches: list[Organization], first: Month, last: Month,
               today: date) -> dict[str, dict[int, Counts]]:
    """month ("YYYY-MM") → branch id → Counts, for the months first..last.
    A task's due count comes from its targets (all / 领域 / codes), its
    done count from the reported assignments; overdue: due before today and
    not reported."""
    run = session.connection().execute
    tasks = run(select(Task.id, Task.month, Task.deadline, Task.target_kind, Task.target_values)
                .where(Task.month >= str(first), Task.month <= str(last))).all()
    ids = {b.id for b in branches}
    by_category: dict[str | None, list[int]] = defaultdict(list)
    by_code = {b.code: b.id for b in branches}
    for b in branches:
        by_category[b.category].append(b.id)
    figures: dict[str, dict[int, Counts]] = defaultdict(lambda: defaultdict(Counts))
    task_of = {}
    for t in tasks:
        task_of[t.id] = t
        if t.target_kind == "all":
            aimed = ids
        elif t.target_kind == "categories":
            aimed = [i for c in t.target_values.split(",") for i in by_category.get(c, ())]
        else:
            aimed = [by_code[c] for c in t.target_values.split(",") if c in by_code]
        month, past = figures[t.month], t.deadline < today
        for branch_id in aimed:
            counts = month[branch_id]
            counts.due += 1
            counts.overdue += past
    if tasks:
        for task_id, branch_id, state, own in run(select(
                Assignment.task_id, Assignment.branch_id, Assignment.state, Assignment.deadline).where(
                Assignment.task_id.in_(bindparam("ids", expanding=True)),
                (Assignment.state == REPORTED) | Assignment.deadline.is_not(None)),
                {"ids": list(task_of)}):
            if branch_id in ids:
                t = task_of[task_id]
                counts = figures[t.month][branch_id]
                if state == REPORTED:
                    counts.done += 1
                    counts.overdue -= t.deadline < today
                else:  # not reported, but an extension moved its deadline
                    counts.overdue -= (t.deadline < today) - (own < today)
    return figures


def organizations(session: Session) -> dict[int, Organization]:
    """The organisations above the branches, by id (a small tree: the
    branches themselves, thousands, are not needed to walk it)."""
    return {o.id: o for o in session.scalars(select(Organization).where(Organization.type != BRANCH))}


def unit_under(tree: dict[int, Organization], top: Organization, branch: Organization) -> Organization:
    """The child of `top` whose subtree holds `branch` (the branch itself if directly under)."""
    node = branch
    while node.parent_id is not None and node.parent_id != top.id and node.parent_id in tree:
        node = tree[node.parent_id]
    return node  # `tree` holds no branch: a branch under a branch cannot be (the roster check refuses it)


# ---- deliveries -------------------------------------------------------------

def troubled(session: Session, now: datetime, targets: list[str] | None, limit: int = 200) -> list[Delivery]:
    """Deliveries that failed, or are late: retrying after an error, due
    more than LATE_AFTER ago and still not sent, or put off by a limit or a
    WeCom block (its reason in last_error, attempts still 0, due_at moving
    on) to more than LATE_AFTER from now or to more than LATE_AFTER after it
    was queued — a row paced by a minute or two is not news, an hour block
    is (to these audiences, or all)."""
    query = select(Delivery).where(or_(
        Delivery.state == FAILED,
        and_(Delivery.state == PENDING, Delivery.attempts > 0),
        and_(Delivery.state == PENDING, Delivery.last_error.is_not(None),
             or_(Delivery.due_at > now + LATE_AFTER, Delivery.received_at < now - LATE_AFTER)),
        and_(Delivery.state.in_((PENDING, SENDING)), Delivery.due_at < now - LATE_AFTER)))
    if targets is not None:
        query = query.where(Delivery.target.in_(targets))
    return list(session.scalars(query.order_by(Delivery.state, Delivery.id.desc()).limit(limit)))


def pending_extensions(session: Session, branch_ids: list[int], limit: int = 200
                       ) -> list[tuple[ExtensionRequest, Task]]:
    """Extension requests of these branches still waiting for a decision,
    oldest first, each with its task."""
    if not branch_ids:
        return []
    return [(r, t) for r, t in session.execute(
        select(ExtensionRequest, Task).join(Task, Task.id == ExtensionRequest.task_id)
        .where(ExtensionRequest.state == ASKED, ExtensionRequest.branch_id.in_(branch_ids))
        .order_by(ExtensionRequest.id).limit(limit))]


def delivery(session: Session, delivery_id: int) -> Delivery | None:
    return session.get(Delivery, delivery_id)


def retry(session: Session, delivery_id: int, now: datetime) -> bool:
    """Queue a failed (or waiting) row again now, with a fresh count of
    attempts; its last error stays on show until a send succeeds."""
    return session.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.state.in_((FAILED, PENDING)))
                           .values(state=PENDING, attempts=0, due_at=now)).rowcount == 1


# ---- a branch's people ------------------------------------------------------

@dataclass
class Person:
    member: Member
    checkins: int              # days checked in, this month
    last_checkin: datetime | None


def members_of(session: Session, branch: Organization, month: Month) -> list[Person]:
    start, end = span(month, month)
    seen = {m: (n, last) for m, n, last in session.execute(
        select(CheckIn.member_id, func.count(CheckIn.id), func.max(CheckIn.received_at))
        .join(Member, CheckIn.member_id == Member.id)
        .where(Member.org_id == branch.id, CheckIn.day >= start, CheckIn.day < end).group_by(CheckIn.member_id))}
    people = session.scalars(select(Member).where(Member.org_id == branch.id, Member.active).order_by(Member.id))
    return [Person(m, *seen.get(m.id, (0, None))) for m in people]
