"""/wecom/aibot: the smart robot (智能机器人) callback, for @-mentions of the
bot in a branch group. Same commands and rules as the app callback; the
answer is a finished stream message that WeCom shows in the group."""
from __future__ import annotations

import secrets

from flask import Blueprint, Response, request

from bot.web.callback import receive
from bot.wecom.crypto import MessageCrypto
from bot.wecom.gate import open_callback
from bot.wecom.inbound import Inbound, aibot_message, envelope_json
from bot.wecom.replies import stream_reply_json

blueprint = Blueprint("aibot", __name__)


def aibot_crypto(config) -> MessageCrypto | None:
    if not (config["aibot.token"] and config["aibot.encoding_aes_key"]):
        return None
    return MessageCrypto(config["aibot.token"], config["aibot.encoding_aes_key"], "")


def _read(crypto: MessageCrypto, now: int) -> Inbound | None:
    inbound = aibot_message(open_callback(crypto, request.args, envelope_json(request.get_data()), now))
    return None if inbound.kind == "stream" else inbound  # a refresh of a stream already finished


def _answer(crypto: MessageCrypto, inbound: Inbound, reply: str, now: int) -> Response:
    body = stream_reply_json(secrets.token_hex(8), reply)
    return Response(crypto.seal_json(body, str(now)), mimetype="application/json")


@blueprint.route("/wecom/aibot", methods=["GET", "POST"])
def aibot():
    return receive("zhibu.aibot_crypto", "aibot.token / aibot.encoding_aes_key", _read, _answer)
