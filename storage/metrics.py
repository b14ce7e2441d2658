"""What /metrics reads from the database: the state of the outbox and of
the leases, as numbers. Read at scrape time, so every process and host sees
the same figures (no per-process counters to add up)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Delivery, Lease

PENDING = "pending"


def deliveries_by_state(session: Session) -> list[tuple[str, str, int]]:
    """(state, channel or "", count) of every outbox row."""
    rows = session.execute(select(Delivery.state, Delivery.channel, func.count())
                           .group_by(Delivery.state, Delivery.channel))
    return [(state, channel or "", n) for state, channel, n in rows]


def oldest_pending(session: Session) -> datetime | None:
    """When the longest-waiting pending row fell due."""
    return session.scalar(select(func.min(Delivery.due_at)).where(Delivery.state == PENDING))


def leases(session: Session) -> list[tuple[str, str, datetime]]:
    """(name, holder, expires_at) of every lease."""
    return [tuple(r) for r in session.execute(select(Lease.name, Lease.holder, Lease.expires_at))]
