"""The delivery table (outbox): every outbound message is a row keyed by
(target, purpose, period), so writing it twice is harmless and sending it
twice needs a row claimed twice — which the compare-and-set claim forbids."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from storage.insert_ignore import insert_ignore
from storage.leases import holder_is_dead
from storage.models import Delivery

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STUCK_AFTER = timedelta(minutes=5)  # a claim older than this: its worker died


def enqueue(session: Session, rows: list[dict], now: datetime) -> int:
    """Queue messages: dicts with target, purpose, period, channel, address,
    body and optionally due_at / msg_format. Returns how many were new."""
    for row in rows:
        row.setdefault("due_at", now)
        row.setdefault("msg_format", "markdown")
        row.update(state=PENDING, attempts=0, received_at=now)
    return insert_ignore(session, Delivery, rows)


def _claimable(now: datetime):
    return or_(and_(Delivery.state == PENDING, Delivery.due_at <= now),
               and_(Delivery.state == SENDING, Delivery.claimed_at < now - STUCK_AFTER))


def claim(session: Session, worker: str, now: datetime, limit: int) -> list[Delivery]:
    """Claim up to `limit` due rows for `worker` with one compare-and-set
    UPDATE: a row another worker claimed meanwhile no longer matches. On
    PostgreSQL the candidates are also locked with SKIP LOCKED so workers
    do not queue behind each other."""
    query = select(Delivery.id).where(_claimable(now)).order_by(Delivery.due_at, Delivery.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    candidates = session.scalars(query).all()
    if not candidates:
        return []
    session.execute(update(Delivery).where(Delivery.id.in_(candidates), _claimable(now))
                    .values(state=SENDING, claimed_by=worker, claimed_at=now)
                    .execution_options(synchronize_session=False))
    return list(session.scalars(select(Delivery).where(
        Delivery.id.in_(candidates), Delivery.claimed_by == worker, Delivery.state == SENDING)
        .order_by(Delivery.id)))


def release_orphans(session: Session, now: datetime) -> int:
    """Put back rows claimed by a worker on this host whose process is gone
    (killed mid-push): they go again now instead of after STUCK_AFTER."""
    claimers = session.scalars(select(Delivery.claimed_by).where(Delivery.state == SENDING).distinct())
    dead = [c for c in claimers if c and holder_is_dead(c)]
    if not dead:
        return 0
    return session.execute(update(Delivery).where(Delivery.state == SENDING, Delivery.claimed_by.in_(dead))
                           .values(state=PENDING, due_at=now)).rowcount


def record_outcome(session: Session, outcome: dict) -> None:
    """Write what happened to one row: a dict with id and the new fields."""
    fields = {k: v for k, v in outcome.items() if k != "id"}
    session.execute(update(Delivery.__table__).where(Delivery.__table__.c.id == outcome["id"]).values(**fields))


def failed(session: Session) -> list[Delivery]:
    return list(session.scalars(select(Delivery).where(Delivery.state == FAILED).order_by(Delivery.id)))
