"""Check-ins (签到): one per member per day counts."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from storage.insert_ignore import insert_ignore
from storage.models import CheckIn, Member


def record_checkin(session: Session, member_id: int, now: datetime, note: str = "",
                   latitude: float | None = None, longitude: float | None = None,
                   label: str | None = None, proxy_by: int | None = None) -> bool:
    """True if this is the member's first check-in today (and so recorded);
    the unique (member, day) key decides, also for simultaneous messages.
    `proxy_by`: the secretary who checked in for the member (代签)."""
    return insert_ignore(session, CheckIn, [{
        "member_id": member_id, "day": now.date(), "note": note, "latitude": latitude,
        "longitude": longitude, "label": label, "proxy_by": proxy_by, "received_at": now}]) == 1


def month_checkins(session: Session, member_id: int, first_day: date, next_first: date) -> tuple[int, datetime | None]:
    """(how many days checked in this month, the last check-in time)."""
    return tuple(session.connection().execute(_MONTH, {"member_id": member_id, "first": first_day, "next": next_first}).one())


_MONTH = select(func.count(CheckIn.id), func.max(CheckIn.received_at)).where(
    CheckIn.member_id == bindparam("member_id"), CheckIn.day >= bindparam("first"), CheckIn.day < bindparam("next"))


def mobile_without_checkin(session: Session, first_day: date, today: date) -> list[Member]:
    """Active mobile members (流动党员) with no check-in from `first_day` to `today`."""
    checked = select(CheckIn.member_id).where(CheckIn.day >= first_day, CheckIn.day <= today)
    return list(session.scalars(select(Member).where(
        Member.is_mobile, Member.active, Member.id.not_in(checked)).order_by(Member.org_id, Member.id)))
