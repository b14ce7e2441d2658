"""Proposals: what the bot understood from someone's own words and offered
to do, awaiting their 是 (handlers/understand/). One pending proposal per
person; taking one is a compare-and-set, so two processes that each get a
是 (or a 是 and a card's 确认) act on it once. A proposal shown as a card
has a random key, the only thing its buttons carry (`new_card_key`)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.orm import Session

from storage.models import InboundMessage, Proposal

PENDING, CONFIRMED, CANCELLED, REPLACED = "pending", "confirmed", "cancelled", "replaced"
LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class Offer:
    id: int
    member_id: int
    command: str
    summary: str
    inbound_id: int | None
    received_at: datetime
    expires_at: datetime
    state: str = PENDING


def new_card_key() -> str:
    """A random key for a proposal's card (24 characters of [A-Za-z0-9_-])."""
    return secrets.token_urlsafe(18)


def propose(session: Session, member_id: int, command: str, summary: str, inbound_id: int | None,
            now: datetime, card_key: str | None = None) -> int:
    """Keep a new proposal for this person; any earlier pending one is replaced."""
    conn = session.connection()
    conn.execute(update(Proposal).where(Proposal.member_id == member_id, Proposal.state == PENDING)
                 .values(state=REPLACED, decided_at=now))
    result = conn.execute(insert(Proposal).values(
        member_id=member_id, command=command, summary=summary, inbound_id=inbound_id, state=PENDING,
        received_at=now, expires_at=now + LIFETIME, card_key=card_key))
    return result.inserted_primary_key[0]


def latest_pending(session: Session, member_id: int) -> Offer | None:
    """This person's pending proposal, expired or not (the caller says which)."""
    row = session.connection().execute(
        select(*_COLUMNS).where(Proposal.member_id == member_id, Proposal.state == PENDING)
        .order_by(Proposal.id.desc()).limit(1)).first()
    return Offer(*row) if row else None


def proposal_by_id(session: Session, proposal_id: int) -> Offer | None:
    row = session.connection().execute(select(*_COLUMNS).where(Proposal.id == proposal_id)).first()
    return Offer(*row) if row else None


def proposal_by_key(session: Session, key: str) -> Offer | None:
    """The proposal whose card carries `key`; None for a key never issued."""
    if not key or len(key) > 32:
        return None
    row = session.connection().execute(select(*_COLUMNS).where(Proposal.card_key == key)).first()
    return Offer(*row) if row else None


def decide(session: Session, proposal_id: int, state: str, now: datetime) -> bool:
    """Mark a pending, unexpired proposal confirmed or cancelled; False if it
    was not pending any more (another process took it) or has expired."""
    result = session.connection().execute(
        update(Proposal).where(Proposal.id == proposal_id, Proposal.state == PENDING, Proposal.expires_at > now)
        .values(state=state, decided_at=now))
    return result.rowcount == 1


def drop(session: Session, proposal_id: int, now: datetime) -> None:
    """An expired or superseded proposal is closed without acting on it."""
    session.connection().execute(update(Proposal).where(Proposal.id == proposal_id, Proposal.state == PENDING)
                                 .values(state=REPLACED, decided_at=now))


def written_since(session: Session, user: str, after_id: int, before_id: int) -> bool:
    """Whether `user` sent a message (not an event) between two inbound
    messages: a message after a proposal replaces it, even an exact command
    that never looked at proposals."""
    return session.connection().execute(
        select(func.count()).select_from(InboundMessage).where(and_(
            InboundMessage.wecom_userid == user[:64], InboundMessage.id > after_id,
            InboundMessage.id < before_id, InboundMessage.msg_type != "event"))).scalar_one() > 0


_COLUMNS = (Proposal.id, Proposal.member_id, Proposal.command, Proposal.summary, Proposal.inbound_id,
            Proposal.received_at, Proposal.expires_at, Proposal.state)
