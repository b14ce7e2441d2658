"""/wecom/aibot: the smart robot (智能机器人) callback, for @-mentions of the
bot in a branch group. Same commands and rules as the app callback; the
answer is a finished stream message that WeCom shows in the group (a
greeting on enter_chat: a text message). An answer not ready in time goes
later by the message's response_url (one POST, valid an hour)."""
from __future__ import annotations

import secrets

from flask import Blueprint, Response, current_app, request
from sqlalchemy.orm import Session

from bot.outbound.channels.aibot_response import AibotResponse
from bot.runtime import Runtime
from bot.web.callback import Late, app_late, receive
from bot.wecom.crypto import MessageCrypto
from bot.wecom.gate import open_callback
from bot.wecom.inbound import Inbound, aibot_message, configured_names, envelope_json
from bot.wecom.replies import stream_reply_json, text_reply_json
from storage.addresses import member_owner
from storage.outbox import enqueue_reply

blueprint = Blueprint("aibot", __name__)


def aibot_crypto(config) -> MessageCrypto | None:
    if not (config["aibot.token"] and config["aibot.encoding_aes_key"]):
        return None
    return MessageCrypto(config["aibot.token"], config["aibot.encoding_aes_key"], "")


def _read(crypto: MessageCrypto, now: int) -> Inbound | None:
    names = configured_names(current_app.extensions["zhibu"].config)
    inbound = aibot_message(open_callback(crypto, request.args, envelope_json(request.get_data()), now), names)
    return None if inbound.kind == "stream" else inbound  # a refresh of a stream already finished


def _answer(crypto: MessageCrypto, inbound: Inbound, reply: str, now: int) -> Response:
    if inbound.kind == "event":  # the welcome on entering the chat: text is the only kind allowed
        body = text_reply_json(reply)
    else:
        body = stream_reply_json(secrets.token_hex(8), reply)
    return Response(crypto.seal_json(body, str(now)), mimetype="application/json")


def _late(runtime: Runtime) -> Late:
    """A late answer goes where the message came from, by its response_url;
    without one, to the sender through the app."""
    to_sender = app_late(runtime.clock.now)

    def late(session: Session, inbound: Inbound, inbound_id: int, reply: str) -> None:
        if not inbound.response_url:
            return to_sender(session, inbound, inbound_id, reply)
        enqueue_reply(session, member_owner(inbound.user), str(inbound_id), reply, runtime.clock.now(),
                      channel=AibotResponse.kind, address=inbound.response_url)
    return late


@blueprint.route("/wecom/aibot", methods=["GET", "POST"])
def aibot():
    return receive("zhibu.aibot_crypto", "aibot.token / aibot.encoding_aes_key", _read, _answer, _late)
