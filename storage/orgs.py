"""The organisation tree: who is under whom, and which tasks reach a branch."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import BRANCH, ORG_DEPARTMENT, Member, Organization, Task


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


def reachable_members(session: Session, org_id: int | None, roles: tuple[str, ...] = ()) -> list[Member]:
    """Active members of one organisation who have WeCom (of these roles, if
    given): a committee's staff, a branch's secretary."""
    query = select(Member).where(Member.org_id == org_id, Member.active, Member.wecom_userid.is_not(None))
    if roles:
        query = query.where(Member.role.in_(roles))
    return list(session.scalars(query.order_by(Member.id)))


def org_department_staff(session: Session) -> list[Member]:
    """Everyone of the 组织部 who has WeCom."""
    department = session.scalars(select(Organization.id).where(Organization.type == ORG_DEPARTMENT)).all()
    return [m for org_id in department for m in reachable_members(session, org_id)]


def org_department_name(session: Session) -> str | None:
    return session.scalar(select(Organization.name).where(Organization.type == ORG_DEPARTMENT))


def member_by_userid(session: Session, userid: str) -> Member | None:
    """The active member with this WeCom id."""
    return session.scalar(select(Member).where(Member.wecom_userid == userid, Member.active))


def userids_in(session: Session, org_ids: list[int]) -> list[str]:
    """The WeCom ids of the members of these organisations."""
    return [u for u in session.scalars(select(Member.wecom_userid).where(Member.org_id.in_(org_ids))) if u]
