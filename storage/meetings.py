"""Meetings (三会一课, 主题党日): what a branch logged, and when it arrived."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from storage.models import Meeting


def record_meeting(session: Session, *, branch_id: int, kind: str, held_on: date, attended: int | None,
                   expected: int | None, note: str, member_id: int, now: datetime) -> Meeting:
    meeting = Meeting(branch_id=branch_id, kind=kind, held_on=held_on, attended=attended, expected=expected,
                      note=note, member_id=member_id, received_at=now)
    session.add(meeting)
    return meeting
