"""Named leases in the database: one holder at a time, taken over when the
holder stops renewing (it died). Compare-and-set UPDATEs; no lock is held
between calls.

Holders (and delivery claims) are named "host:pid:…", host being this
process's host identity (`server.host_id`, the hostname by default; set
once at start by `set_local_host`). A holder on this host whose process is
gone is taken over at once; one on another host only when its lease has
expired, since its pid means nothing here."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from storage.models import AccessToken, Lease
from storage.insert_ignore import insert_ignore

_local_host = os.uname().nodename


def set_local_host(host: str) -> None:
    """This process's host identity (from config, at start)."""
    global _local_host
    _local_host = host


def local_host() -> str:
    return _local_host


def holder_name(suffix: str) -> str:
    """A lease holder's or delivery claimer's name: "host:pid:suffix"."""
    return f"{_local_host}:{os.getpid()}:{suffix}"


def try_acquire(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """True if `holder` now holds `name` until now + ttl (taken or renewed).
    A lease whose holder was a process on this host that no longer exists
    is taken over at once, without waiting for it to expire."""
    insert_ignore(session, Lease, [{"name": name, "holder": holder, "expires_at": now + ttl}])
    current = session.scalar(select(Lease.holder).where(Lease.name == name))
    gone = [current] if current and current != holder and holder_is_dead(current) else []
    result = session.execute(update(Lease).where(
        Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now, Lease.holder.in_(gone)))
        .values(holder=holder, expires_at=now + ttl))
    return result.rowcount == 1


def holder_is_dead(holder: str) -> bool:
    """Holders are "host:pid:…"; only a process on this host can be checked."""
    host, _, rest = holder.partition(":")
    pid = rest.split(":", 1)[0]
    if host != _local_host or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def release(session: Session, name: str, holder: str, now: datetime, state: str | None = None) -> None:
    """Give the lease up now (a graceful stop): another process takes it at
    once instead of waiting for it to expire. `state`: what is left behind."""
    values: dict = {"expires_at": now - timedelta(seconds=1)}
    if state is not None:
        values.update(state=state, since=now, detail=None)
    session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder).values(**values))


def lease_of(session: Session, name: str) -> Lease | None:
    return session.get(Lease, name)


def stored_token(session: Session, key: str) -> tuple[str, datetime] | None:
    """(token, expires_at) of a WeCom access token shared by every process."""
    row = session.get(AccessToken, key)
    return (row.token, row.expires_at) if row else None


def store_token(session: Session, key: str, token: str, expires_at: datetime) -> None:
    row = session.get(AccessToken, key)
    if row is None:
        session.add(AccessToken(key=key, token=token, expires_at=expires_at))
    else:
        row.token, row.expires_at = token, expires_at
    session.flush()


def report(session: Session, name: str, holder: str, state: str, detail: str | None, now: datetime) -> bool:
    """The holder of `name` says what it holds: `state` (kept with the time
    it was first reported, `since`) and a short `detail`. False if `holder`
    does not hold the lease (any more)."""
    current = session.scalar(select(Lease.state).where(Lease.name == name, Lease.holder == holder))
    values = {"state": state, "detail": (detail or None) and detail[:300]}
    if current != state:
        values["since"] = now
    return session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder)
                           .values(**values)).rowcount == 1


@dataclass(frozen=True)
class LeaseState:
    """A lease as any process reads it: who holds it until when, and what it reports."""
    holder: str
    expires_at: datetime
    state: str | None
    since: datetime | None
    detail: str | None

    def live(self, now: datetime) -> bool:
        return self.expires_at >= now


def state_of(session: Session, name: str) -> LeaseState | None:
    row = session.execute(select(Lease.holder, Lease.expires_at, Lease.state, Lease.since, Lease.detail)
                          .where(Lease.name == name)).first()
    return LeaseState(*row) if row else None
