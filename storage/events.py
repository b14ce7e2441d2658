"""Events staff must see: missed scheduler runs, failed deliveries,
holiday data missing for a year."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Event

log = logging.getLogger(__name__)


def add_event(session: Session, kind: str, detail: str, now: datetime, scope: str | None = None) -> None:
    """`scope`: the audience the event is about (an outbox target such as
    "org:ZB0001"), where the caller knows it; None for the deployment's own."""
    log.warning("%s: %s", kind, detail)
    session.add(Event(kind=kind, detail=detail, received_at=now, scope=scope))


def recent_events(session: Session, scopes: Iterable[str] | None = None, limit: int = 30) -> list[Event]:
    """The newest events: all of them, or only those about these audiences
    (events without a scope are then left out)."""
    query = select(Event)
    if scopes is not None:
        query = query.where(Event.scope.in_(list(scopes)))
    return list(session.scalars(query.order_by(Event.id.desc()).limit(limit)))
