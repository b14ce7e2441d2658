"""The delivery table (outbox): every outbound message is a row keyed by
(target, purpose, period), so writing it twice is harmless and sending it
twice needs a row claimed twice — which the compare-and-set claim forbids.

A row left `sending` by a worker that died may or may not have reached
WeCom: it is taken back and sent again with its body marked RESENT
("（补发）"), so a reader who got it twice sees why — never dropped."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import and_, bindparam, case, func, literal, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from storage.addresses import member_owner, org_owner
from storage.insert_ignore import insert_ignore
from storage.leases import holder_is_dead
from storage.models import Delivery, Member, Organization

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
# A claim older than this: its worker died. The default of scheduler.lease_seconds;
# the worker passes the configured value.
STUCK_AFTER = timedelta(seconds=30)
RESENT = "（补发）"
REPLY = "reply"  # the purpose of an answer that missed the callback's passive reply
CARD_UPDATE = "card-update"  # the clicked card shows its new state (storage: handlers/commands/cards.py)
URGENT = (REPLY, CARD_UPDATE)  # purposes that go out in quiet hours too: someone is waiting for them


@dataclass(frozen=True)
class Message:
    """What chat commands and scheduled pushes say, to whom, for what and for
    which period — never through which channel: the outbound worker picks
    the channel from the audience's addresses when it sends. The body is
    light markdown (**bold**, <font color="warning">); each channel renders
    and splits it for its own limits."""
    audience: str   # an owner key: "org:ZB0001", "member:u700001"
    purpose: str    # monthly-sheet, remind-3d, chase-12, bulletin, …
    period: str     # 2026-11, task-12, 2026-11-30, …
    body: str


# A card rides in a row's body after its text version, behind this mark (an
# invisible separator no one types): channels that cannot show a card send
# the text, the app sends the card (bot/wecom/cards.py builds WeCom's JSON).
# A row marked RESENT keeps its card: the mark goes in front of the text.
CARD_MARK = "\n\u2063card "


@dataclass(frozen=True)
class CardBody:
    """A button card, as data: `key` is the card row's (storage/cards.py);
    each button is (text, action) and carries "<action>:<key>". With a
    `response_code` it replaces the card a click came from (WeCom's
    update_template_card); with `replace_name` only, the buttons become one
    greyed-out label instead."""
    key: str
    title: str
    desc: str = ""
    rows: tuple[tuple[str, str], ...] = ()      # (label, value)
    buttons: tuple[tuple[str, str], ...] = ()   # (text, action)
    response_code: str = ""
    replace_name: str = ""
    replaces: str = ""   # the WeCom task_id of the card a click came from (an update)
    text: str = ""       # a longer plain text under the title (WeCom's sub_title_text)

    def dump(self) -> str:
        return json.dumps({"key": self.key, "title": self.title, "desc": self.desc, "rows": self.rows,
                           "buttons": self.buttons, "response_code": self.response_code,
                           "replace_name": self.replace_name, "replaces": self.replaces, "text": self.text},
                          ensure_ascii=False)

    @classmethod
    def load(cls, text: str) -> "CardBody":
        doc = json.loads(text)
        return cls(doc["key"], doc["title"], doc.get("desc", ""), tuple(map(tuple, doc.get("rows", ()))),
                   tuple(map(tuple, doc.get("buttons", ()))), doc.get("response_code", ""),
                   doc.get("replace_name", ""), doc.get("replaces", ""), doc.get("text", ""))


def button_key(action: str, card_key: str) -> str:
    """What a card's button carries: "<action>:<card key>"."""
    return f"{action}:{card_key}"


def parse_button_key(event_key: str) -> tuple[str, str] | None:
    """(action, card key) of a clicked button's key; None if it is not ours."""
    action, colon, key = (event_key or "").partition(":")
    if not colon or not action.isalnum() or not action.isascii() or not key or len(event_key) > 1024:
        return None
    return action, key


def with_card(text: str, card: CardBody) -> str:
    """A body that is a card where a card can go, and `text` elsewhere."""
    return f"{text}{CARD_MARK}{card.dump()}"


def card_of(body: str) -> tuple[str, CardBody | None]:
    """(the text version, the card or None) of a row's body."""
    text, mark, card = body.partition(CARD_MARK)
    if not mark:
        return body, None
    try:
        return text, CardBody.load(card)
    except (ValueError, KeyError, TypeError):
        return text, None


def to_branch(branch: Organization, purpose: str, period: str, body: str) -> Message:
    """A message to a branch's group."""
    return Message(org_owner(branch.code), purpose, period, body)


def to_member(member: Member, purpose: str, period: str, body: str) -> Message:
    """A message to one person (by their WeCom id)."""
    return Message(member_owner(member.wecom_userid), purpose, period, body)


def enqueue(session: Session, messages: Iterable[Message], now: datetime,
            due_at: datetime | None = None) -> int:
    """Queue messages; how many were new (a (target, purpose, period) seen
    before is skipped, so queueing twice is harmless)."""
    rows = [{"target": m.audience, "purpose": m.purpose, "period": m.period, "body": m.body,
             "due_at": due_at or now, "state": PENDING, "attempts": 0, "received_at": now}
            for m in messages]
    return insert_ignore(session, Delivery, rows)


def _stuck(now: datetime, stuck_after: timedelta = STUCK_AFTER):
    return and_(Delivery.state == SENDING, Delivery.claimed_at < now - stuck_after)


def _claimable(now: datetime, stuck_after: timedelta = STUCK_AFTER):
    return or_(and_(Delivery.state == PENDING, Delivery.due_at <= now), _stuck(now, stuck_after))


def _marked_resent():
    """The body with RESENT in front, once."""
    return case((Delivery.body.startswith(RESENT, autoescape=True), Delivery.body),
                else_=literal(RESENT) + Delivery.body)


def claim(session: Session, worker: str, now: datetime, limit: int,
          purposes: Iterable[str] | None = None,
          stuck_after: timedelta = STUCK_AFTER) -> tuple[list[Delivery], int]:
    """Claim up to `limit` due rows (of these purposes only, if given) for
    `worker` with one compare-and-set UPDATE: a row another worker claimed
    meanwhile no longer matches. On PostgreSQL the candidates are also
    locked with SKIP LOCKED so workers do not queue behind each other.
    (rows, how many of them were stuck `sending` and are now marked RESENT)."""
    claimable = _claimable(now, stuck_after)
    where = claimable if purposes is None else and_(claimable, Delivery.purpose.in_(list(purposes)))
    query = select(Delivery.id).where(where).order_by(Delivery.due_at, Delivery.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    candidates = session.scalars(query).all()
    if not candidates:
        return [], 0
    resent = session.execute(update(Delivery).where(Delivery.id.in_(candidates), _stuck(now, stuck_after))
                             .values(state=SENDING, claimed_by=worker, claimed_at=now, body=_marked_resent())
                             .execution_options(synchronize_session=False)).rowcount
    session.execute(update(Delivery).where(Delivery.id.in_(candidates), Delivery.state == PENDING,
                                           Delivery.due_at <= now)
                    .values(state=SENDING, claimed_by=worker, claimed_at=now)
                    .execution_options(synchronize_session=False))
    rows = list(session.scalars(select(Delivery).where(
        Delivery.id.in_(candidates), Delivery.claimed_by == worker, Delivery.state == SENDING)
        .order_by(Delivery.id)))
    return rows, resent


def release_orphans(session: Session, now: datetime) -> int:
    """Put back rows claimed by a worker on this host whose process is gone
    (killed mid-push): they go again now, marked RESENT, instead of after
    STUCK_AFTER. How many."""
    claimers = session.scalars(select(Delivery.claimed_by).where(Delivery.state == SENDING).distinct())
    dead = [c for c in claimers if c and holder_is_dead(c)]
    if not dead:
        return 0
    return session.execute(update(Delivery).where(Delivery.state == SENDING, Delivery.claimed_by.in_(dead))
                           .values(state=PENDING, due_at=now, body=_marked_resent())
                           .execution_options(synchronize_session=False)).rowcount


def enqueue_reply(session: Session, target: str, reply_to: str, body: str, now: datetime,
                  channel: str | None = None, address: str | None = None) -> bool:
    """Queue the answer to inbound message `reply_to` (its id) that missed
    the callback's own reply; `channel`/`address`: a per-message route (a
    smart robot's response_url) instead of the target's addresses. False if
    it was queued before (a WeCom retry of the same message)."""
    return insert_ignore(session, Delivery, [{
        "target": target, "purpose": REPLY, "period": reply_to, "body": body, "due_at": now,
        "state": PENDING, "attempts": 0, "received_at": now, "channel": channel, "address": address}]) == 1


def reply_queued(session: Session, target: str, reply_to: str) -> bool:
    """Whether the answer to inbound message `reply_to` went (or goes) by the outbox."""
    return session.scalar(select(Delivery.id).where(
        Delivery.target == target, Delivery.purpose == REPLY, Delivery.period == reply_to)) is not None


def record_outcome(session: Session | Connection, outcome: dict) -> None:
    """Write what happened to one row: a dict with id and the new fields.
    (Once per message sent: the statement for a set of fields is built once,
    and a plain Connection will do.)"""
    fields = {k: v for k, v in outcome.items() if k != "id"}
    names = tuple(sorted(fields))
    statement = _RECORD.get(names)
    if statement is None:
        table = Delivery.__table__
        statement = _RECORD.setdefault(names, update(table).where(table.c.id == bindparam("row_id")).values(
            **{name: bindparam(name) for name in names}))
    session.execute(statement, {"row_id": outcome["id"], **fields})


_RECORD: dict[tuple[str, ...], object] = {}


def failed(session: Session, targets: Iterable[str] | None = None, since: datetime | None = None,
           excluding: str | None = None) -> list[Delivery]:
    """Failed deliveries: all, or to some targets, or since a moment."""
    query = select(Delivery).where(Delivery.state == FAILED)
    if targets is not None:
        query = query.where(Delivery.target.in_(list(targets)))
    if since is not None:
        query = query.where(Delivery.claimed_at >= since)
    if excluding is not None:
        query = query.where(Delivery.purpose != excluding)
    return list(session.scalars(query.order_by(Delivery.id)))


def sent_since(session: Session, since: datetime) -> list[tuple[str, str, datetime]]:
    """(channel, address, sent_at) of the rows sent since a moment, oldest
    first: what a worker that starts sending counts against WeCom's windows,
    since another process may have sent them (a scheduler leader that died)."""
    return [tuple(row) for row in session.execute(
        select(Delivery.channel, Delivery.address, Delivery.sent_at)
        .where(Delivery.state == SENT, Delivery.sent_at >= since,
               Delivery.channel.is_not(None), Delivery.address.is_not(None))
        .order_by(Delivery.sent_at))]


def recent(session: Session, limit: int = 50) -> list[Delivery]:
    return list(session.scalars(select(Delivery).order_by(Delivery.id.desc()).limit(limit)))


def counts(session: Session) -> dict[str, int]:
    """How many rows are in each state."""
    return dict(session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())
