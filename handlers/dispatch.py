"""One inbound message → one reply. Which function answers, and whether the
sender's role may use it, is the registry's (handlers/registry.py); the role
check runs here, once, before the function. A CommandError is shown to the
user as written, anything else is logged with its traceback and the user
only hears that it failed. Every reply is fitted to one WeCom message here,
whatever a command wrote; a text longer than any command needs is answered
without being parsed (handlers/limits.py).

What a message asks for: its text is the command, whatever the kind (text,
a smart robot's mixed message or voice); photos and files that come with
a report are its evidence, alone they are evidence of the sender's last
report; a location is a check-in; entering the chat (enter_agent,
enter_chat) gets a short greeting once a day; a card's button
(template_card_event) is handlers/commands/cards.py `click` (a proposal's
确认 / 取消: handlers/understand/answer.py `click`), answered by a message;
other events are only logged.

The answer is due before WeCom gives up on the callback. A `Deadline`
shared with the web thread decides, once, who carries it: the HTTP reply,
or — if the web thread could not wait — a message queued in this very
transaction. A WeCom retry of a message gets the answer the first one was
given (its HTTP reply was lost), unless that answer went as a message."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, time
from typing import Callable, Protocol

from sqlalchemy.orm import Session, sessionmaker

from handlers.commands import basics, cards, reports
from handlers.context import Actor, CommandError, Context
from handlers.inbound import Inbound
from handlers.limits import MESSAGE_CHARS, TOO_LONG_MESSAGE
from handlers.parse import Command, parse_command
from handlers.registry import REGISTRY, Fn
from handlers.render import fit
from handlers.understand import answer as own_words
from storage.addresses import member_owner
from storage.db import transaction
from storage.inbound import Duplicate, answer_of, outcome_since, record_inbound, set_outcome, set_result
from storage.members import active_member_by_userid, organization
from storage.outbox import enqueue_reply, reply_queued

log = logging.getLogger(__name__)
REGISTRY.loaded()  # complete and checked when the app starts, not at someone's first message
GREETED_EVENTS = ("enter_agent", "enter_chat")
CARD_EVENT = "template_card_event"
UNKNOWN_USER = "未找到你的党员信息，请联系县委组织部核对名册。"
FAILED = "抱歉，处理失败了，请稍后再试。如多次失败，请联系县委组织部。"
UNSUPPORTED = "暂不支持这类消息，请发送文字，如“帮助”。"
UNREADABLE = "消息里有无法识别的字符，请重新输入。"
# A write command's word glued to a particle is speech, not the command:
# 签到了吗, 学习了党章, 完成了第三项 go to the understanding step (which
# proposes, never acts) instead of being recorded as typed.
WRITES = frozenset({"done", "correct", "meeting", "checkin", "proxy_checkin", "volunteer", "study", "community"})
SPEECH_PARTICLES = "了吗呢嘛么没不过啦"
GREETING = "你好，{name}！我是支部通。发送“任务”查看本月任务，“完成 N 说明”上报，“帮助”查看全部命令。"


class Clock(Protocol):
    """What handlers need of the bot's one clock (bot/clock.py)."""
    def now(self) -> datetime: ...


Late = Callable[[Session, Inbound, int, str], None]


class Deadline:
    """Who carries the answer, decided once under a lock: the web thread
    waits for the handler until its deadline and then `expire`s; the
    handler, just before it commits, asks `passive`. If the handler came
    first the HTTP reply carries the answer; if the web thread did, the
    handler queues it with `late` (session, inbound, inbound id, answer) in
    its own transaction. Should a commit that claimed the passive answer
    outlast the web thread's patience, the web thread `abandon`s and the
    handler, `finished`, queues the answer after its commit."""

    def __init__(self, late: Late):
        self.late = late
        self._lock = threading.Lock()
        self._way: str | None = None
        self._done = self._abandoned = False

    def passive(self) -> bool:
        with self._lock:
            self._way = self._way or "passive"
            return self._way == "passive"

    def expire(self) -> bool:
        """True: the handler will queue the answer; reply to WeCom with nothing."""
        with self._lock:
            self._way = self._way or "late"
            return self._way == "late"

    def abandon(self) -> bool:
        """True: the handler has not finished and will queue the answer itself."""
        with self._lock:
            self._abandoned = not self._done
            return self._abandoned

    def finished(self) -> bool:
        """The handler committed; True if it must still queue the answer."""
        with self._lock:
            self._done = True
            return self._abandoned


def route(inbound: Inbound) -> Command | None:
    """What this message asks for (pure); None for events that need no reply."""
    if inbound.kind == "unreadable":
        return Command("unreadable")
    if len(inbound.text) > MESSAGE_CHARS:  # answered without being parsed
        return Command("too_long", str(len(inbound.text)))
    if inbound.kind == "location":
        return Command("checkin")
    if inbound.kind == "event":
        if inbound.event == CARD_EVENT:
            return Command("card", inbound.text)
        return Command("greet") if inbound.event in GREETED_EVENTS else None
    if inbound.text.strip() or inbound.kind == "text":
        command = parse_command(inbound.text)
        if command.name in WRITES and command.rest[:1] in SPEECH_PARTICLES and command.rest and not command.number:
            command = Command("unknown", inbound.text.strip())
        elif command.name == "acknowledge" and command.number is None and not command.problem:
            # a bare 收到 (or 收到了/收到谢谢) is how a group answers any notice: chit-chat,
            # never the 收到 N command's usage line or a member's refusal
            command = Command("unknown", inbound.text.strip())
        return Command("evidence", inbound.text) if command.name == "unknown" and inbound.media else command
    if inbound.media:
        return Command("evidence")
    return Command("unsupported")


def handler_for(command: Command, actor: Actor) -> Fn:
    """The function that answers; a CommandError if the actor's role may not."""
    if command.name in REGISTRY:
        return REGISTRY.resolve(command.name, actor)
    if command.name == "evidence":
        return reports.evidence
    if command.name == "card":  # a proposal's 确认 / 取消, or one of one-tap's cards
        return own_words.click if own_words.is_proposal_button(command.rest) else cards.click
    if command.name == "unsupported":
        return lambda cmd, ctx: UNSUPPORTED
    if command.name == "too_long":
        return lambda cmd, ctx: TOO_LONG_MESSAGE.format(n=cmd.rest, limit=MESSAGE_CHARS)
    if command.name == "unreadable":
        return lambda cmd, ctx: UNREADABLE
    return basics.unknown


def handle(inbound: Inbound, sessions: sessionmaker[Session], clock: Clock,
           deadline: Deadline | None = None) -> str | None:
    """Act on a message once; None when there is nothing to say (events,
    duplicates, an answer that goes as a message). Deliveries a handler
    queues are written in the same transaction, so a broadcast is never
    lost or doubled."""
    now, command = clock.now(), route(inbound)  # parsing is pure: before the transaction
    expected = command.name if command else "event"
    try:
        with transaction(sessions) as session:
            inbound_id = record_inbound(session, dedupe_key=inbound.dedupe_key, channel=inbound.channel,
                                        user=inbound.user, msg_type=inbound.kind, content=_logged(inbound),
                                        media_id=inbound.media_id, now=now, outcome=expected)
            reply, outcome = _answer(inbound, command, session, inbound_id, now)
            if reply is not None and command is not None and command.name == "card":
                # A card's click is answered by a message (WeCom shows no text reply
                # to a card event), queued here with its outcome: a retry gets nothing.
                set_result(session, inbound_id, outcome, reply)
                enqueue_reply(session, member_owner(inbound.user), str(inbound_id), reply, now)
                reply = None
            elif reply is not None:
                set_result(session, inbound_id, outcome, reply)
                reply = _carried(deadline, session, inbound, inbound_id, reply)
            elif outcome != expected:  # refused, or an unknown sender: say so in the log
                set_outcome(session, inbound_id, outcome)
    except Duplicate:
        return _again(inbound, sessions, deadline)
    except Exception:
        log.exception("handler failed for %s", inbound.dedupe_key)
        return _record_failure(inbound, sessions, now, deadline)
    if reply is not None and deadline is not None and deadline.finished():
        _queue_after(deadline, sessions, inbound, inbound_id, reply)  # the web thread could not wait
        return None
    return reply


def _carried(deadline: Deadline | None, session: Session, inbound: Inbound, inbound_id: int,
             reply: str) -> str | None:
    """The answer for the HTTP reply, or None when it was queued instead."""
    if deadline is None or deadline.passive():
        return reply
    deadline.late(session, inbound, inbound_id, reply)
    log.info("answer to %s was not ready in time: it goes as a message", inbound.dedupe_key)
    return None


def _queue_after(deadline: Deadline, sessions, inbound: Inbound, inbound_id: int, reply: str) -> None:
    try:
        with transaction(sessions) as session:
            deadline.late(session, inbound, inbound_id, reply)
    except Exception:
        log.exception("could not queue the late answer to %s", inbound.dedupe_key)


def _again(inbound: Inbound, sessions, deadline: Deadline | None) -> str | None:
    """A message seen before (WeCom retries one it had no answer to): the
    same answer, unless that answer goes, or went, as a message."""
    with transaction(sessions) as session:
        found = answer_of(session, inbound.dedupe_key)
        if found is None or found[1] is None:
            log.info("duplicate callback %s ignored", inbound.dedupe_key)
            return None
        inbound_id, reply = found
        if reply_queued(session, member_owner(inbound.user), str(inbound_id)):
            log.info("duplicate callback %s: its answer goes as a message", inbound.dedupe_key)
            return None
        log.info("duplicate callback %s: answered again", inbound.dedupe_key)
        reply = _carried(deadline, session, inbound, inbound_id, reply)
    if reply is not None and deadline is not None and deadline.finished():
        _queue_after(deadline, sessions, inbound, inbound_id, reply)
        return None
    return reply


def _answer(inbound: Inbound, command: Command | None, session: Session, inbound_id: int,
            now: datetime) -> tuple[str | None, str]:
    conn = session.connection()  # plain rows on the hot path: no ORM identity map needed
    member = active_member_by_userid(conn, inbound.user)
    if member is None:
        return (None, "unknown user, event") if inbound.kind == "event" else (UNKNOWN_USER, "unknown user")
    if command is None:
        return None, "event"
    if command.name == "greet":
        if outcome_since(session, inbound.user, "greet", datetime.combine(now.date(), time()), inbound_id):
            return None, "event: greeted today already"
        return GREETING.format(name=member.name), "greet"
    actor = Actor(member, organization(conn, member.org_id))
    try:
        ctx = Context(session, now, actor, inbound, inbound_id)
        if command.name == "unknown":  # no exact command: own words (handlers/understand/)
            reply, outcome = own_words.answer(inbound.text, ctx)
            return (None if reply is None else fit(reply)), outcome  # None: it went as a card
        handler = handler_for(command, actor)  # the role check: before the function runs
        reply = handler(command, ctx)
        if inbound.media and command.name != "evidence":  # photos sent with the command
            reply = f"{reply}\n{reports.evidence_with(command, ctx)}"
        return fit(reply), command.name
    except CommandError as e:
        return fit(str(e)), f"refused: {command.name}"


def _logged(inbound: Inbound) -> str:
    """What the inbound log keeps of a message's content."""
    if inbound.quote:
        return f"{inbound.text}\n〔引用〕{inbound.quote}"
    return inbound.text


def _record_failure(inbound: Inbound, sessions: sessionmaker[Session], now: datetime,
                    deadline: Deadline | None) -> str | None:
    """Log the message as failed, so WeCom's retries do not fail it again;
    the sender hears that it failed (late, if need be)."""
    try:
        with transaction(sessions) as session:
            inbound_id = record_inbound(session, dedupe_key=inbound.dedupe_key, channel=inbound.channel,
                                        user=inbound.user, msg_type=inbound.kind, content=_logged(inbound),
                                        media_id=inbound.media_id, now=now)
            set_result(session, inbound_id, "error", FAILED)
            return _carried(deadline, session, inbound, inbound_id, FAILED)
    except Exception:
        log.exception("could not log failed message %s", inbound.dedupe_key)
        return FAILED
