"""The checks every callback passes before anything is acted on: a fresh
timestamp, a valid signature, our receive id (inside MessageCrypto.open)."""
from __future__ import annotations

from bot.wecom.crypto import CryptoError, MessageCrypto

MAX_SKEW = 300  # seconds: WeCom's own timestamps are seconds old


def open_callback(crypto: MessageCrypto, args, encrypt: str, now_epoch: int) -> str:
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    if not timestamp.isdigit() or abs(now_epoch - int(timestamp)) > MAX_SKEW:
        raise CryptoError("stale or missing timestamp")
    if not nonce or len(nonce) > 64:
        raise CryptoError("missing nonce")
    return crypto.open(args.get("msg_signature", ""), timestamp, nonce, encrypt)
