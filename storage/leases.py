"""Named leases in the database: one holder at a time, taken over when the
holder stops renewing (it died). Compare-and-set UPDATEs; no lock is held
between calls."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from storage.models import Lease
from storage.outbox import insert_ignore


def try_acquire(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """True if `holder` now holds `name` until now + ttl (taken or renewed)."""
    insert_ignore(session, Lease, [{"name": name, "holder": holder, "expires_at": now + ttl}])
    result = session.execute(update(Lease).where(
        Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
        .values(holder=holder, expires_at=now + ttl))
    return result.rowcount == 1


def release(session: Session, name: str, holder: str, now: datetime) -> None:
    session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder)
                    .values(expires_at=now - timedelta(seconds=1)))
