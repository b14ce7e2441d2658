"""Check-ins (签到): one per member per day counts."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import CheckIn


def record_checkin(session: Session, member_id: int, now: datetime, note: str = "",
                   latitude: float | None = None, longitude: float | None = None,
                   label: str | None = None) -> bool:
    """True if this is the member's first check-in today (and so recorded)."""
    exists = session.scalar(select(CheckIn.id).where(
        CheckIn.member_id == member_id, CheckIn.day == now.date()))
    if exists:
        return False
    session.add(CheckIn(member_id=member_id, day=now.date(), note=note, latitude=latitude,
                        longitude=longitude, label=label, received_at=now))
    session.flush()
    return True


def month_checkins(session: Session, member_id: int, first_day: date, next_first: date) -> tuple[int, datetime | None]:
    """(how many days checked in this month, the last check-in time)."""
    count, last = session.execute(select(func.count(CheckIn.id), func.max(CheckIn.received_at)).where(
        CheckIn.member_id == member_id, CheckIn.day >= first_day, CheckIn.day < next_first)).one()
    return count, last
