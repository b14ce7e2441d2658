"""Events staff must see: missed scheduler runs, failed deliveries, holiday
data missing for a year."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Event

log = logging.getLogger(__name__)


def add_event(session: Session, kind: str, detail: str, now: datetime) -> None:
    log.warning("%s: %s", kind, detail)
    session.add(Event(kind=kind, detail=detail, received_at=now))


def recent_events(session: Session, limit: int = 30) -> list[Event]:
    return list(session.scalars(select(Event).order_by(Event.id.desc()).limit(limit)))
