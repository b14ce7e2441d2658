"""The inbound-message log. Its unique key is where a WeCom retry stops:
the insert of a second copy fails in the database, whichever process or
thread it arrives on."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import InboundMessage


class Duplicate(Exception):
    """This message was already received."""


def record_inbound(session: Session, *, dedupe_key: str, channel: str, user: str,
                   msg_type: str, content: str, media_id: str | None, now: datetime) -> InboundMessage:
    row = InboundMessage(dedupe_key=dedupe_key[:200], channel=channel, wecom_userid=user[:64],
                         msg_type=msg_type[:32], content=content[:4000], media_id=media_id,
                         received_at=now)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise Duplicate(dedupe_key) from None
    return row
