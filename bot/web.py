"""/wecom/callback: the self-built app's callback (GET verify, POST messages).
HTTP only: verify, decrypt, parse, hand on, answer."""
from __future__ import annotations

import logging
import secrets

from flask import Blueprint, Response, current_app, request

from bot.clock import epoch
from bot.wecom.crypto import CryptoError, MessageCrypto
from bot.wecom.gate import open_callback
from bot.wecom.inbound import BadMessage, app_message, envelope_xml
from bot.wecom.replies import text_reply_xml
from handlers.dispatch import handle

log = logging.getLogger(__name__)
blueprint = Blueprint("wecom", __name__)


def app_crypto(config) -> MessageCrypto | None:
    if not (config["wecom.token"] and config["wecom.encoding_aes_key"] and config["wecom.corp_id"]):
        return None
    return MessageCrypto(config["wecom.token"], config["wecom.encoding_aes_key"], config["wecom.corp_id"])


def refuse(status: int, why: str) -> Response:
    log.warning("callback refused (%s): %s from %s", status, why, request.remote_addr)
    return Response("", status)


@blueprint.route("/wecom/callback", methods=["GET", "POST"])
def callback():
    runtime = current_app.extensions["zhibu"]
    crypto: MessageCrypto | None = current_app.extensions["zhibu.app_crypto"]
    if crypto is None:
        return refuse(503, "wecom.token / encoding_aes_key / corp_id not configured")
    now = epoch(runtime.clock.now())
    try:
        if request.method == "GET":
            return Response(open_callback(crypto, request.args, request.args.get("echostr", ""), now),
                            mimetype="text/plain")
        encrypt, to_user = envelope_xml(request.get_data())
        if to_user and to_user != crypto.receive_id:
            return refuse(403, "ToUserName is not our corp id")
        inbound = app_message(open_callback(crypto, request.args, encrypt, now))
    except BadMessage as e:
        return refuse(400, str(e))
    except CryptoError as e:
        return refuse(403, str(e))
    reply = handle(inbound, runtime)
    if reply is None:
        return Response("", 200)
    body = text_reply_xml(inbound.user, crypto.receive_id, reply, now)
    return Response(crypto.seal_xml(body, str(now), secrets.token_hex(8)), mimetype="application/xml")
