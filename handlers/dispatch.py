"""One inbound message → one reply. Which function answers, and whether the
sender's role may use it, is the registry's (handlers/registry.py); the role
check runs here, once, before the function. A CommandError is shown to the
user as written, anything else is logged with its traceback and the user
only hears that it failed. Every reply is fitted to one WeCom message here,
whatever a command wrote; a text longer than any command needs is answered
without being parsed (handlers/limits.py)."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from handlers.commands import basics, reports
from handlers.context import Actor, CommandError, Context
from handlers.inbound import Inbound
from handlers.limits import MESSAGE_CHARS, TOO_LONG_MESSAGE
from handlers.parse import Command, parse_command
from handlers.registry import REGISTRY, Fn
from handlers.render import fit
from storage.db import transaction
from storage.inbound import Duplicate, record_inbound, set_outcome
from storage.members import active_member_by_userid, organization

log = logging.getLogger(__name__)
REGISTRY.loaded()  # complete and checked when the app starts, not at someone's first message
EVIDENCE_KINDS = ("image", "file", "video", "voice")
UNKNOWN_USER = "未找到你的党员信息，请联系县委组织部核对名册。"
FAILED = "抱歉，处理失败了，请稍后再试。如多次失败，请联系县委组织部。"
UNSUPPORTED = "暂不支持这类消息，请发送文字，如“帮助”。"


class Clock(Protocol):
    """What handlers need of the bot's one clock (bot/clock.py)."""
    def now(self) -> datetime: ...


def route(inbound: Inbound) -> Command | None:
    """What this message asks for (pure); None for events that need no reply."""
    if inbound.kind == "text":
        if len(inbound.text) > MESSAGE_CHARS:
            return Command("too_long", str(len(inbound.text)))
        return parse_command(inbound.text)
    if inbound.kind == "location":
        return Command("checkin")
    if inbound.kind in EVIDENCE_KINDS:
        return Command("evidence")
    if inbound.kind == "event":
        return None
    return Command("unsupported")


def handler_for(command: Command, actor: Actor) -> Fn:
    """The function that answers; a CommandError if the actor's role may not."""
    if command.name in REGISTRY:
        return REGISTRY.resolve(command.name, actor)
    if command.name == "evidence":
        return reports.evidence
    if command.name == "unsupported":
        return lambda cmd, ctx: UNSUPPORTED
    if command.name == "too_long":
        return lambda cmd, ctx: TOO_LONG_MESSAGE.format(n=cmd.rest, limit=MESSAGE_CHARS)
    return basics.unknown


def handle(inbound: Inbound, sessions: sessionmaker[Session], clock: Clock) -> str | None:
    """Act on a message once; None when there is nothing to say (events,
    duplicates). Deliveries a handler queues are written in the same
    transaction, so a broadcast is never lost or doubled."""
    now, command = clock.now(), route(inbound)  # parsing is pure: before the transaction
    expected = command.name if command else "event"
    try:
        with transaction(sessions) as session:
            inbound_id = record_inbound(session, dedupe_key=inbound.dedupe_key, channel=inbound.channel,
                                        user=inbound.user, msg_type=inbound.kind, content=inbound.text,
                                        media_id=inbound.media_id, now=now, outcome=expected)
            reply, outcome = _answer(inbound, command, session, inbound_id, now)
            if outcome != expected:  # refused, or an unknown sender: say so in the log
                set_outcome(session, inbound_id, outcome)
            return reply
    except Duplicate:
        log.info("duplicate callback %s ignored", inbound.dedupe_key)
        return None
    except Exception:
        log.exception("handler failed for %s", inbound.dedupe_key)
        _record_failure(inbound, sessions, now)
        return FAILED


def _answer(inbound: Inbound, command: Command | None, session: Session, inbound_id: int,
            now: datetime) -> tuple[str | None, str]:
    conn = session.connection()  # plain rows on the hot path: no ORM identity map needed
    member = active_member_by_userid(conn, inbound.user)
    if member is None:
        return (None, "unknown user, event") if inbound.kind == "event" else (UNKNOWN_USER, "unknown user")
    if command is None:
        return None, "event"
    actor = Actor(member, organization(conn, member.org_id))
    try:
        handler = handler_for(command, actor)  # the role check: before the function runs
        return fit(handler(command, Context(session, now, actor, inbound, inbound_id))), command.name
    except CommandError as e:
        return fit(str(e)), f"refused: {command.name}"


def _record_failure(inbound: Inbound, sessions: sessionmaker[Session], now: datetime) -> None:
    """Log the message as failed, so WeCom's retries do not fail it again."""
    try:
        with transaction(sessions) as session:
            inbound_id = record_inbound(session, dedupe_key=inbound.dedupe_key, channel=inbound.channel,
                                        user=inbound.user, msg_type=inbound.kind, content=inbound.text,
                                        media_id=inbound.media_id, now=now)
            set_outcome(session, inbound_id, "error")
    except Exception:
        log.exception("could not log failed message %s", inbound.dedupe_key)
