"""The conversation over the smart robot's long connection (bot/wecom/longconn.py).

Every message or event frame becomes the very Inbound the /wecom/aibot
callback makes (`aibot_body`: the same fields, the same strict reading, the
same dedupe key `aibot:<msgid>`) and goes to handlers/dispatch.py `handle`,
so the commands, roles, confirmations and the inbound log are the
callback's — a frame WeCom delivers twice is acted on once.

Answers go back on the connection within WeCom's deadlines (doc 101463):
- a message: one stream reply (`aibot_respond_msg`, finish) when the answer
  is ready within `server.answer_within`; otherwise a stream is opened at
  once ("正在处理") and finished with the answer when it comes, well inside
  the 6 minutes WeCom allows; an answer later still, or one the connection
  could not carry (it dropped meanwhile), goes as a proactive push
  (`aibot_send_msg` to the chat, through the outbox: channel
  `aibot_chat_reply`), retried until WeCom acks it — never lost;
- entering the chat (enter_chat): the greeting, `aibot_respond_welcome_msg`
  (WeCom takes it within 5 s);
- other events (a template card click, feedback): handled like the
  callback's events; whatever the handler answers goes as a push.

A branch group's chatid is learned from the first message the bot hears
there (the sender's branch, SPEC "Details"), so pushes to the group can go
over the connection (channel aibot_chat) with no group-robot key."""
from __future__ import annotations

import logging
import secrets
import time
from concurrent.futures import Future, ThreadPoolExecutor, TimeoutError as Waited
from typing import Callable

from sqlalchemy.orm import Session

from bot.outbound.channels.aibot_long import AibotChat, AibotChatReply
from bot.runtime import Runtime
from bot.wecom.client import SendError
from bot.wecom.inbound import BadMessage, Inbound, aibot_body, configured_names
from bot.wecom.longconn import EVENT, LongConnection
from handlers.dispatch import Deadline, handle
from storage.addresses import learn_group_chat, member_owner
from storage.db import transaction
from storage.events import add_event
from storage.inbound import answer_of
from storage.outbox import enqueue_reply

log = logging.getLogger(__name__)
STREAM_WINDOW = 300.0   # seconds: WeCom takes stream replies for 6 minutes after the message
COMMIT_GRACE = 0.4
THREADS = 8
WAITING = "正在处理，请稍候……"
LATER = "处理时间较长，结果稍后单独发给你。"
DONE = "已处理。"


def stream(stream_id: str, content: str, finish: bool) -> dict:
    return {"msgtype": "stream", "stream": {"id": stream_id, "finish": finish, "content": content}}


class AibotLink:
    """The long connection and the conversations on it. `may_hold`: whether
    this process may hold the connection now (the scheduler's leadership)."""

    def __init__(self, runtime: Runtime, may_hold: Callable[[], bool] = lambda: True):
        self.runtime = runtime
        self.names = configured_names(runtime.config)
        self.answer_within = runtime.config["server.answer_within"]
        self.connection = LongConnection(runtime, self._received, may_hold)
        self.frames = ThreadPoolExecutor(THREADS, thread_name_prefix="aibot-frame")
        self.handlers = ThreadPoolExecutor(THREADS, thread_name_prefix="aibot-handle")
        self.reported: set[tuple[str, str]] = set()   # (group, sender) already reported as shared

    def start(self) -> "AibotLink":
        self.connection.start()
        return self

    def stop(self) -> None:
        self.connection.stop()
        self.frames.shutdown(wait=False, cancel_futures=True)
        self.handlers.shutdown(wait=False)

    def _received(self, cmd: str, req_id: str, body: dict) -> None:
        """Called by the reading thread: never block it."""
        self.frames.submit(self._converse, cmd, req_id, body)

    def _converse(self, cmd: str, req_id: str, body: dict) -> None:
        try:
            inbound = aibot_body(body, self.names)
        except BadMessage as e:
            log.warning("long connection: frame %s refused: %s", req_id[:64], e)
            return
        try:
            if inbound.kind == "stream":
                return  # a refresh of a stream already finished
            if cmd == EVENT or inbound.kind == "event":
                self._event(req_id, inbound)
            else:
                self._message(req_id, inbound)
                if inbound.chat_id and body.get("chattype") == "group":
                    self._learn(inbound)  # after the answer: it must not wait for this
        except Exception:
            log.exception("long connection: frame %s failed", inbound.dedupe_key)

    def _learn(self, inbound: Inbound) -> None:
        """A group the bot hears in for the first time becomes the sender's
        branch's address (channel aibot_chat): its pushes need no webhook key.
        A group already another branch's is reported, once, not guessed."""
        try:
            with transaction(self.runtime.sessions) as session:
                what, owner = learn_group_chat(session, AibotChat.kind, inbound.chat_id, inbound.user,
                                               self.runtime.clock.now())
                if what == "learned":
                    log.info("group chat %s learned as %s's address", inbound.chat_id, owner)
                elif what == "other" and (inbound.chat_id, inbound.user) not in self.reported:
                    self.reported.add((inbound.chat_id, inbound.user))
                    add_event(session, "aibot-chat-shared",
                              f"智能机器人所在群 {inbound.chat_id} 已是 {owner} 的群，但 {inbound.user} 属于另一支部："
                              "未改动，请核对（名册 aibot_chatid）", self.runtime.clock.now(), scope=owner)
        except Exception:
            log.exception("could not learn the group chat of %s", inbound.dedupe_key)

    def _message(self, req_id: str, inbound: Inbound) -> None:
        started, stream_id = time.monotonic(), secrets.token_hex(8)
        deadline = Deadline(self._late)
        future = self.handlers.submit(handle, inbound, self.runtime.sessions, self.runtime.clock, deadline)
        opened, late = False, False
        try:
            reply = future.result(timeout=self.answer_within)
        except Waited:
            opened = self._respond(req_id, "aibot_respond_msg", stream(stream_id, WAITING, False))
            rest = max(0.0, STREAM_WINDOW - (time.monotonic() - started))
            reply, late = self._wait(future, deadline, rest)
        if reply is None:
            if opened:  # the answer goes as a push, or there was nothing to say
                self._respond(req_id, "aibot_respond_msg", stream(stream_id, LATER if late else DONE, True))
            return
        if not self._respond(req_id, "aibot_respond_msg", stream(stream_id, reply, True)):
            self._queue(inbound, reply)  # it did not reach WeCom: a push, once the connection is back

    def _event(self, req_id: str, inbound: Inbound) -> None:
        deadline = Deadline(self._late)
        if inbound.event != "enter_chat":
            deadline.expire()  # no reply on the connection: what the handler says goes as a push
        future = self.handlers.submit(handle, inbound, self.runtime.sessions, self.runtime.clock, deadline)
        reply, _late = self._wait(future, deadline, self.answer_within)
        if reply is not None and not self._respond(req_id, "aibot_respond_welcome_msg",
                                                   {"msgtype": "text", "text": {"content": reply}}):
            log.info("greeting for %s not delivered (WeCom takes it within 5 s only)", inbound.dedupe_key)

    def _wait(self, future: Future, deadline: Deadline, seconds: float) -> tuple[str | None, bool]:
        """(the handler's answer within `seconds` or None, whether the handler
        queues it as a push instead): the Deadline decides, once, which way."""
        try:
            return future.result(timeout=seconds), False
        except Waited:
            pass
        if deadline.expire():
            return None, True
        try:  # the handler claimed the answer just now and is committing it
            return future.result(timeout=COMMIT_GRACE), False
        except Waited:
            return (None, True) if deadline.abandon() else (future.result(), False)

    def _respond(self, req_id: str, cmd: str, body: dict) -> bool:
        try:
            self.connection.request(cmd, body, req_id=req_id)
            return True
        except SendError as e:
            log.warning("long connection: %s for %s not delivered: %s", cmd, req_id[:64], e)
            return False

    def _late(self, session: Session, inbound: Inbound, inbound_id: int, reply: str) -> None:
        """A late answer: pushed to the chat the message came from (a group's
        chatid, or the sender in a 1:1 chat), over the connection."""
        enqueue_reply(session, member_owner(inbound.user), str(inbound_id), reply, self.runtime.clock.now(),
                      channel=AibotChatReply.kind, address=inbound.chat_id or inbound.user)

    def _queue(self, inbound: Inbound, reply: str) -> None:
        try:
            with transaction(self.runtime.sessions) as session:
                found = answer_of(session, inbound.dedupe_key)
                if found is not None:
                    self._late(session, inbound, found[0], reply)
                    log.info("answer to %s goes as a push", inbound.dedupe_key)
        except Exception:
            log.exception("could not queue the answer to %s", inbound.dedupe_key)
