"""/wecom/callback: the self-built app's callback (GET verify, POST messages).
HTTP only: verify, decrypt, parse, hand on, answer. `receive` is shared
with the smart robot's callback (bot/web/aibot.py).

The order is the defence: the cheap checks that need no body (its declared
size, the query's timestamp, nonce and signature format) come first, then
the envelope is read by a bounded parser, then the signature is verified,
and only an authentic message is decrypted and parsed.

WeCom waits 5 s for an answer and then re-delivers. The handler runs in a
small thread pool and the callback waits for it at most
`server.answer_within` seconds (1.5): an answer ready by then is the passive reply; one that is not
goes later as a message (`late`: the app's message/send here, the smart
robot's response_url there), queued by the handler in its own transaction
— and WeCom gets an empty 200 at once, which stops its retries."""
from __future__ import annotations

import logging
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor, TimeoutError as Waited
from dataclasses import replace
from datetime import datetime
from typing import Callable

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy.orm import Session

from bot.runtime import Runtime
from bot.web.safety import plain
from bot.wecom.crypto import CryptoError, MessageCrypto
from bot.wecom.gate import check_query, open_callback
from bot.wecom.inbound import BadMessage, Inbound, app_message, envelope_xml
from bot.wecom.replies import text_reply_xml
from handlers.dispatch import Deadline, Late, handle
from storage.addresses import member_owner
from storage.outbox import enqueue_reply

log = logging.getLogger(__name__)
blueprint = Blueprint("wecom", __name__)
Reader = Callable[[MessageCrypto, int], "Inbound | None"]
Answerer = Callable[[MessageCrypto, Inbound, str, int], Response]
COMMIT_GRACE = 0.4   # more, for a handler already committing an answer it claimed
HANDLER_THREADS = 16
_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def handlers() -> ThreadPoolExecutor:
    """This process's handler threads (made after gunicorn forks)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(HANDLER_THREADS, thread_name_prefix="handle"))
        return _pool[1]


def answer_in_time(runtime: Runtime, inbound: Inbound, late: Late) -> str | None:
    """The handler's answer if it is ready within server.answer_within; else None
    (an empty 200) and the handler sends it through `late`."""
    deadline = Deadline(late)
    future = handlers().submit(handle, inbound, runtime.sessions, runtime.clock, deadline)
    try:
        return future.result(timeout=runtime.config["server.answer_within"])
    except Waited:
        pass
    if deadline.expire():
        log.info("%s not answered within %ss: the answer goes as a message", inbound.dedupe_key,
                 runtime.config["server.answer_within"])
        return None
    try:  # the handler claimed the passive answer just now and is committing it
        return future.result(timeout=COMMIT_GRACE)
    except Waited:
        return None if deadline.abandon() else future.result()


def app_late(now: Callable[[], datetime]) -> Late:
    """A late answer to an app message: a message to the sender (message/send)."""
    def late(session: Session, inbound: Inbound, inbound_id: int, reply: str) -> None:
        enqueue_reply(session, member_owner(inbound.user), str(inbound_id), reply, now())
    return late


def app_crypto(config) -> MessageCrypto | None:
    if not (config["wecom.token"] and config["wecom.encoding_aes_key"] and config["wecom.corp_id"]):
        return None
    return MessageCrypto(config["wecom.token"], config["wecom.encoding_aes_key"], config["wecom.corp_id"])


def refuse(status: int, why: str) -> Response:
    log.warning("callback refused (%s): %s from %s", status, why, request.remote_addr)
    return plain("", status)


def receive(crypto_key: str, unconfigured: str, read: Reader, answer: Answerer,
            late: Callable[[Runtime], Late] | None = None) -> Response:
    """One callback: URL verification, or an authentic message acted on once.
    Anything not authentic or not well-formed is refused before it is read."""
    runtime = current_app.extensions["zhibu"]
    crypto: MessageCrypto | None = current_app.extensions[crypto_key]
    if crypto is None:
        return refuse(503, f"{unconfigured} not configured")
    now = runtime.clock.epoch()
    if (request.content_length or 0) > current_app.config["MAX_CONTENT_LENGTH"]:
        return refuse(413, "body larger than any WeCom callback")  # declared size: nothing read yet
    try:
        if request.method == "GET":
            return Response(open_callback(crypto, request.args, request.args.get("echostr", ""), now),
                            mimetype="text/plain")
        check_query(request.args, now)  # stale or unsigned: refused before the body is read
        inbound = read(crypto, now)
        g.callback_kind = inbound.kind if inbound else "stream"  # for /metrics
    except BadMessage as e:
        return refuse(400, str(e))
    except CryptoError as e:
        return refuse(403, str(e))
    if inbound is None:
        return Response("", 200)
    reply = answer_in_time(runtime, inbound, (late or _app_late)(runtime))
    if reply is None:  # nothing to say, or the answer goes later: an empty 200 stops WeCom's retries
        return Response("", 200)
    return answer(crypto, inbound, reply, now)


def _read_app(crypto: MessageCrypto, now: int) -> Inbound:
    encrypt, to_user = envelope_xml(request.get_data())
    if to_user and to_user != crypto.receive_id:
        raise CryptoError("ToUserName is not our corp id")
    inbound = app_message(open_callback(crypto, request.args, encrypt, now))
    return replace(inbound, cards=sees_cards(current_app.extensions["zhibu"].config, inbound.user))


def sees_cards(config, userid: str) -> bool:
    """Whether a card can answer this person in the app's 1:1 chat: the app can
    send (message/send needs its secret and agent id) and they do not read it
    through the WeChat plugin (`wecom.plain_text_users`: text only, WECOM.md §7)."""
    users = config["wecom.plain_text_users"]
    return bool(config["wecom.secret"] and config["wecom.agent_id"]) and "all" not in users and userid not in users


def _app_late(runtime: Runtime) -> Late:
    return app_late(runtime.clock.now)


def _answer_app(crypto: MessageCrypto, inbound: Inbound, reply: str, now: int) -> Response:
    body = text_reply_xml(inbound.user, crypto.receive_id, reply, now)
    return Response(crypto.seal_xml(body, str(now), secrets.token_hex(8)), mimetype="application/xml")


@blueprint.route("/wecom/callback", methods=["GET", "POST"])
def callback():
    return receive("zhibu.app_crypto", "wecom.token / encoding_aes_key / corp_id", _read_app, _answer_app)
