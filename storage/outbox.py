"""The delivery table (outbox): every outbound message is a row keyed by
(target, purpose, period), so writing it twice is harmless and sending it
twice needs a row claimed twice — which the compare-and-set claim forbids."""
from __future__ import annotations

import os
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from storage.models import Delivery

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STUCK_AFTER = timedelta(minutes=5)  # a claim older than this: its worker died


def insert_ignore(session: Session, model, rows: list[dict]) -> int:
    """INSERT rows, skipping those whose unique key exists (any dialect)."""
    if not rows:
        return 0
    dialect, table = session.get_bind().dialect.name, model.__table__
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
        stmt = insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
        stmt = insert(table).on_conflict_do_nothing()
    else:  # MySQL / MariaDB
        from sqlalchemy import insert
        stmt = insert(table).prefix_with("IGNORE")
    return session.execute(stmt, rows).rowcount or 0


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
    """Claim up to `limit` due rows for `worker`. Each claim is a
    compare-and-set UPDATE checked by rowcount; on PostgreSQL the candidates
    are also locked with SKIP LOCKED so workers do not trip over each other."""
    query = select(Delivery.id).where(_claimable(now)).order_by(Delivery.due_at, Delivery.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = []
    for delivery_id in session.scalars(query).all():
        result = session.execute(update(Delivery).where(Delivery.id == delivery_id, _claimable(now))
                                 .values(state=SENDING, claimed_by=worker, claimed_at=now))
        if result.rowcount == 1:
            claimed.append(delivery_id)
    if not claimed:
        return []
    return list(session.scalars(select(Delivery).where(Delivery.id.in_(claimed)).order_by(Delivery.id)))


def release_orphans(session: Session, now: datetime) -> int:
    """Put back rows claimed by a worker on this host whose process is gone
    (killed mid-push): they go again now instead of after STUCK_AFTER."""
    host = os.uname().nodename
    claimers = session.scalars(select(Delivery.claimed_by).where(Delivery.state == SENDING).distinct())
    dead = [c for c in claimers if c and c.split(":")[0] == host and not _alive(int(c.split(":")[1]))]
    if not dead:
        return 0
    return session.execute(update(Delivery).where(Delivery.state == SENDING, Delivery.claimed_by.in_(dead))
                           .values(state=PENDING, due_at=now)).rowcount


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def record_outcomes(session: Session, outcomes: list[dict]) -> None:
    """Bulk-write what happened: dicts with id and the new state fields."""
    if outcomes:
        session.execute(update(Delivery), outcomes)


def failed(session: Session) -> list[Delivery]:
    return list(session.scalars(select(Delivery).where(Delivery.state == FAILED).order_by(Delivery.id)))
