"""People: who is sending a message (the active member behind a WeCom
userid, and their unit — plain rows through a Core connection, since this
runs on every callback), and whom a push reaches (a committee's staff, a
branch's secretary, the org department)."""
from __future__ import annotations

from sqlalchemy import Row, bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from storage.models import ORG_DEPARTMENT, Member, Organization


def active_member_by_userid(conn: Connection, userid: str) -> Row | None:
    """The active member with this WeCom userid; None for a stranger."""
    return conn.execute(_MEMBER, {"userid": userid}).first()


def organization(conn: Connection, org_id: int) -> Row | None:
    return conn.execute(_ORG, {"org_id": org_id}).first()


# Built once: compiled statements are cached by identity on the hot path.
_MEMBER = select(Member.__table__).where(Member.wecom_userid == bindparam("userid"), Member.active)
_ORG = select(Organization.__table__).where(Organization.id == bindparam("org_id"))


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


def member_by_userid(session: Session, userid: str) -> Member | None:
    """The active member with this WeCom id."""
    return session.scalar(select(Member).where(Member.wecom_userid == userid, Member.active))


def userids_in(session: Session, org_ids: list[int]) -> list[str]:
    """The WeCom ids of the members of these organisations."""
    return [u for u in session.scalars(select(Member.wecom_userid).where(Member.org_id.in_(org_ids))) if u]
