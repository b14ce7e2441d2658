"""/wecom/aibot: the smart robot (智能机器人) callback, for @-mentions of the
bot in a branch group. Same commands and rules as the app callback; the
answer is a finished stream message that WeCom shows in the group."""
from __future__ import annotations

import secrets

from flask import Blueprint, Response, current_app, request

from bot.clock import epoch
from bot.web import refuse
from bot.wecom.crypto import CryptoError, MessageCrypto
from bot.wecom.gate import open_callback
from bot.wecom.inbound import BadMessage, aibot_message, envelope_json
from bot.wecom.replies import stream_reply_json
from handlers.dispatch import handle

blueprint = Blueprint("aibot", __name__)


def aibot_crypto(config) -> MessageCrypto | None:
    if not (config["aibot.token"] and config["aibot.encoding_aes_key"]):
        return None
    return MessageCrypto(config["aibot.token"], config["aibot.encoding_aes_key"], "")


@blueprint.route("/wecom/aibot", methods=["GET", "POST"])
def aibot():
    runtime = current_app.extensions["zhibu"]
    crypto: MessageCrypto | None = current_app.extensions["zhibu.aibot_crypto"]
    if crypto is None:
        return refuse(503, "aibot.token / aibot.encoding_aes_key not configured")
    now = epoch(runtime.clock.now())
    try:
        if request.method == "GET":
            return Response(open_callback(crypto, request.args, request.args.get("echostr", ""), now),
                            mimetype="text/plain")
        inbound = aibot_message(open_callback(crypto, request.args, envelope_json(request.get_data()), now))
    except BadMessage as e:
        return refuse(400, str(e))
    except CryptoError as e:
        return refuse(403, str(e))
    if inbound.kind == "stream":  # a refresh of a stream we already finished
        return Response("", 200)
    reply = handle(inbound, runtime)
    if reply is None:
        return Response("", 200)
    body = stream_reply_json(secrets.token_hex(8), reply)
    return Response(crypto.seal_json(body, str(now)), mimetype="application/json")
