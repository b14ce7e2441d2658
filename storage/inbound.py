"""The inbound-message log. Its unique key is where a WeCom retry stops:
the insert of a second copy fails in the database, whichever process or
thread it arrives on."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import InboundMessage


class Duplicate(Exception):
    """This message was already received."""


def record_inbound(session: Session, *, dedupe_key: str, channel: str, user: str,
                   msg_type: str, content: str, media_id: str | None, now: datetime,
                   outcome: str | None = None) -> int:
    """The new row's id; Duplicate if this message was seen before."""
    try:  # the first statement of its transaction: a duplicate ends it
        result = session.connection().execute(_INSERT, {
            "dedupe_key": dedupe_key[:200], "channel": channel, "wecom_userid": user[:64],
            "msg_type": msg_type[:32], "content": content[:4000], "media_id": media_id,
            "received_at": now, "outcome": outcome})
    except IntegrityError:
        raise Duplicate(dedupe_key) from None
    return result.inserted_primary_key[0]


def set_outcome(session: Session, inbound_id: int, outcome: str) -> None:
    session.connection().execute(_SET_OUTCOME, {"row_id": inbound_id, "outcome": outcome[:200]})


def set_result(session: Session, inbound_id: int, outcome: str, reply: str) -> None:
    """The outcome and the answer given, in one statement."""
    session.connection().execute(_SET_RESULT, {"row_id": inbound_id, "outcome": outcome[:200], "reply": reply})


def answer_of(session: Session, dedupe_key: str) -> tuple[int, str | None] | None:
    """(id, the answer it was given) of a message received before."""
    row = session.connection().execute(_ANSWER_OF, {"key": dedupe_key[:200]}).first()
    return (row.id, row.reply) if row else None


def outcome_since(session: Session, user: str, outcome: str, since: datetime, excluding: int) -> bool:
    """Whether `user` had a message with this outcome since `since` (a greeting today)."""
    return session.connection().execute(_OUTCOME_SINCE, {
        "user": user[:64], "outcome": outcome, "since": since, "excluding": excluding}).first() is not None


# Built once: this is the hottest path of every callback.
_TABLE = InboundMessage.__table__
_INSERT = insert(_TABLE)
_SET_OUTCOME = update(_TABLE).where(_TABLE.c.id == bindparam("row_id")).values(outcome=bindparam("outcome"))
_SET_RESULT = update(_TABLE).where(_TABLE.c.id == bindparam("row_id")).values(
    outcome=bindparam("outcome"), reply=bindparam("reply"))
_ANSWER_OF = select(_TABLE.c.id, _TABLE.c.reply).where(_TABLE.c.dedupe_key == bindparam("key"))
_OUTCOME_SINCE = select(_TABLE.c.id).where(
    _TABLE.c.wecom_userid == bindparam("user"), _TABLE.c.outcome == bindparam("outcome"),
    _TABLE.c.received_at >= bindparam("since"), _TABLE.c.id != bindparam("excluding")).limit(1)
