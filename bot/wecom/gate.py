"""The checks every callback passes before anything is acted on: a fresh
timestamp, a well-formed nonce and signature (checked on the query string
alone, before the body is read), then a valid signature and our receive id
(inside MessageCrypto.open)."""
from __future__ import annotations

import re
from typing import Mapping

from bot.wecom.crypto import CryptoError, MessageCrypto

MAX_SKEW = 300  # seconds: WeCom's own timestamps are seconds old
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: "²".isdigit() is True, int("²") fails
_SIGNATURE = re.compile(r"[0-9a-f]{40}")  # sha1 hex; anything else never matches, and
# hmac.compare_digest raises TypeError on non-ASCII text, so it must not get that far


def check_query(args: Mapping[str, str], now_epoch: int) -> tuple[str, str, str]:
    """(timestamp, nonce, msg_signature) of a fresh, well-formed query, or CryptoError.
    Costs nothing, so a callback that cannot be authentic is refused before its body is read."""
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    signature = args.get("msg_signature", "")
    if not _TIMESTAMP.fullmatch(timestamp) or abs(now_epoch - int(timestamp)) > MAX_SKEW:
        raise CryptoError("stale or missing timestamp")
    if not nonce or len(nonce) > 64:
        raise CryptoError("missing nonce")
    if not _SIGNATURE.fullmatch(signature):
        raise CryptoError("malformed signature")
    return timestamp, nonce, signature


def open_callback(crypto: MessageCrypto, args: Mapping[str, str], encrypt: str, now_epoch: int) -> str:
    timestamp, nonce, signature = check_query(args, now_epoch)
    return crypto.open(signature, timestamp, nonce, encrypt)
