"""The organisation tree: who is under whom, and which tasks reach a branch."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import BRANCH, ORG_DEPARTMENT, Organization, Task


def targets(task: Task, branch: Organization) -> bool:
    """Does `task` apply to `branch` (all, by 领域, or by code)?"""
    if task.target_kind == "all":
        return True
    values = task.target_values.split(",")
    if task.target_kind == "categories":
        return branch.category in values
    return branch.code in values


def branches_under(session: Session, org: Organization) -> list[Organization]:
    """The active branches in `org`'s subtree (itself, if it is a branch)."""
    if org.type == BRANCH:
        return [org]
    rows = session.execute(select(Organization.id, Organization.parent_id)).all()
    children: dict[int | None, list[int]] = {}
    for org_id, parent_id in rows:
        children.setdefault(parent_id, []).append(org_id)
    ids, stack = set(), [org.id]
    while stack:
        current = stack.pop()
        ids.add(current)
        stack.extend(children.get(current, ()))
    return list(session.scalars(select(Organization).where(
        Organization.id.in_(ids), Organization.type == BRANCH, Organization.active)
        .order_by(Organization.code)))



def active_branches(session: Session, codes: list[str] | None = None) -> list[Organization]:
    """Every active branch (or those with these codes), by code."""
    query = select(Organization).where(Organization.type == BRANCH, Organization.active)
    if codes:
        query = query.where(Organization.code.in_(codes))
    return list(session.scalars(query.order_by(Organization.code)))


def org_department_name(session: Session) -> str | None:
    return session.scalar(select(Organization.name).where(Organization.type == ORG_DEPARTMENT))


def org_department_code(session: Session) -> str | None:
    """The county's own code: the issuer of what the CLI sends in its name."""
    return session.scalar(select(Organization.code).where(Organization.type == ORG_DEPARTMENT))


def active_by_id(session: Session, ids: set[int]) -> dict[int, Organization]:
    """The active organisations among these ids."""
    if not ids:
        return {}
    return {o.id: o for o in session.scalars(select(Organization).where(Organization.id.in_(ids),
                                                                       Organization.active))}
