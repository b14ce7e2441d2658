"""软弱涣散 and the 整改台账: branches flagged by staff, and their
rectification items. An item is a task of its branch (numbered in its
month, reported with 完成 N, evidence and all) plus a row here that keeps
it on the branch's list until staff close it (销号)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.development import MANY
from storage.models import Organization, Rectification, RectificationItem, Task
from storage.tasks import add_task


def open_flag(session: Session, branch_id: int) -> Rectification | None:
    """The branch's flag that has not been lifted, if any."""
    return session.scalar(select(Rectification).where(Rectification.branch_id == branch_id,
                                                      Rectification.lifted_at.is_(None))
                          .order_by(Rectification.id.desc()))


def flags(session: Session, branch_ids: list[int] | None = None, *, open_only: bool = True) -> list[Rectification]:
    query = select(Rectification).order_by(Rectification.flagged_at)
    if open_only:
        query = query.where(Rectification.lifted_at.is_(None))
    if branch_ids is None:
        return list(session.scalars(query))
    if len(branch_ids) <= MANY:
        return list(session.scalars(query.where(Rectification.branch_id.in_(branch_ids))))
    wanted = set(branch_ids)  # a province's branches: flags are few, read them all
    return [f for f in session.scalars(query) if f.branch_id in wanted]


def flag(session: Session, branch_id: int, reason: str, member_id: int | None, now: datetime) -> Rectification:
    row = Rectification(branch_id=branch_id, reason=reason, flagged_by=member_id, flagged_at=now)
    session.add(row)
    session.flush()
    return row


def lift(row: Rectification, note: str, member_id: int | None, now: datetime) -> None:
    row.lifted_at, row.lifted_by, row.lift_note = now, member_id, note


@dataclass(frozen=True)
class Item:
    item: RectificationItem
    task: Task

    @property
    def closed(self) -> bool:
        return self.item.closed_at is not None


def add_item(session: Session, branch: Organization, title: str, deadline: date, *, issuer: str,
             issuer_org_id: int | None, member_id: int | None, natural_key: str, evidence: str,
             month: str, now: datetime) -> Item:
    """A new item: its task (for this branch only) and its row."""
    task = add_task(session, natural_key=natural_key, month=month, title=title, deadline=deadline,
                    target_kind="codes", target_values=branch.code, evidence=evidence, note=None,
                    recurring=False, duty=None, issuer=issuer, issuer_org_id=issuer_org_id,
                    created_by=member_id, received_at=now)
    flagged = open_flag(session, branch.id)
    item = RectificationItem(task_id=task.id, branch_id=branch.id, rectification_id=flagged.id if flagged else None,
                             received_at=now)
    session.add(item)
    session.flush()
    return Item(item, task)


def items_of(session: Session, branch_ids: list[int], *, open_only: bool = False) -> list[Item]:
    """Items of these branches, oldest first (open ones only, if asked)."""
    query = (select(RectificationItem, Task).join(Task, RectificationItem.task_id == Task.id)
             .where(RectificationItem.branch_id.in_(branch_ids)).order_by(RectificationItem.id))
    if open_only:
        query = query.where(RectificationItem.closed_at.is_(None))
    return [Item(i, t) for i, t in session.execute(query)]


def item_by_task(session: Session, task_id: int) -> RectificationItem | None:
    return session.scalar(select(RectificationItem).where(RectificationItem.task_id == task_id))


def close(item: RectificationItem, note: str, member_id: int | None, now: datetime) -> None:
    item.closed_at, item.closed_by, item.close_note = now, member_id, note
