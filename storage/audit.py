"""The audit log: who did what, when, and from where (SPEC "Promises":
every change made by staff). Written in the transaction of the change it
records, so a change and its audit row stand or fall together."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from storage.models import AuditEntry, Member, Organization

WEB, CHAT, CLI = "web", "chat", "cli"


@dataclass(frozen=True)
class Origin:
    """Where a change came from: the channel, and the client's address on the web."""
    channel: str
    address: str | None = None


def record(session: Session, now: datetime, origin: Origin, action: str, target: str = "", detail: str = "",
           member: Member | None = None, unit: Organization | None = None, who: str | None = None) -> None:
    """One row. `who` for an actor that is no roster person (a failed sign-in's typed id)."""
    name = who or (f"{member.name}（{member.wecom_userid or member.roster_key}）" if member else "")
    session.add(AuditEntry(at=now, member_id=member.id if member else None, who=name[:140],
                           unit_code=unit.code if unit else None, action=action[:32], target=target[:200],
                           detail=detail, channel=origin.channel, address=(origin.address or None) and origin.address[:64]))


def as_from(session: Session, origin: Origin) -> None:
    """Give this transaction's rows that say "chat" `origin` instead: for a
    function shared with a chat command that records its change as made in
    chat (the extension decision, handlers/commands/cards.py `decide`), when
    the workbench calls it. Rows of this transaction only: pending or
    loaded, never a query."""
    for row in [*session.new, *session.identity_map.values()]:
        if isinstance(row, AuditEntry) and row.channel == CHAT:
            row.channel, row.address = origin.channel, (origin.address or None) and origin.address[:64]


def entries(session: Session, *, action: str | None = None, text: str | None = None,
            before_id: int | None = None, limit: int = 100) -> list[AuditEntry]:
    """The newest rows first, optionally of one action or mentioning `text`
    (in who, target or detail); `before_id` pages back."""
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    if text:
        like = f"%{text.replace('%', '').replace('_', '')}%"
        query = query.where(or_(AuditEntry.who.like(like), AuditEntry.target.like(like),
                                AuditEntry.detail.like(like)))
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))


def actions(session: Session) -> list[str]:
    return sorted(session.scalars(select(AuditEntry.action).distinct()))


def count(session: Session, action: str | None = None) -> int:
    query = select(func.count(AuditEntry.id))
    if action:
        query = query.where(AuditEntry.action == action)
    return session.scalar(query) or 0
