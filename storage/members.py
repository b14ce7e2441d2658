"""Who is sending a message: the active member behind a WeCom userid, and
the unit they belong to. Plain rows through a Core connection — this runs
on every callback, which needs no ORM identity map."""
from __future__ import annotations

from sqlalchemy import Row, bindparam, select
from sqlalchemy.engine import Connection

from storage.models import Member, Organization


def active_member_by_userid(conn: Connection, userid: str) -> Row | None:
    """The active member with this WeCom userid; None for a stranger."""
    return conn.execute(_MEMBER, {"userid": userid}).first()


def organization(conn: Connection, org_id: int) -> Row | None:
    return conn.execute(_ORG, {"org_id": org_id}).first()


# Built once: compiled statements are cached by identity on the hot path.
_MEMBER = select(Member.__table__).where(Member.wecom_userid == bindparam("userid"), Member.active)
_ORG = select(Organization.__table__).where(Organization.id == bindparam("org_id"))
