"""WeCom message crypto (signature, AES-256-CBC, receive id), wrapping
wechatpy 1.8.18's PrpCrypto for the AES part.

Why a wrapper and not wechatpy's WeChatCrypto as it is (checked on our
Python 3.11 with wechatpy 1.8.18):
- its decrypt_message parses the XML envelope with xmltodict *before* the
  signature is checked; we read envelopes ourselves with a bounded parser
  (bot/wecom/inbound.py: no DOCTYPE, no entities, a few flat elements) and
  only then hand over the Encrypt field;
- it compares signatures with `!=`; we use hmac.compare_digest;
- a wrong receive id raises InvalidCorpIdException, not a signature error,
  and broken ciphertext raises whatever the padding/struct code trips on;
  we map all of these to one CryptoError with a reason for the log;
- it has no JSON variant for the smart robot (智能机器人), whose receive id
  is the empty string; the same primitives serve both here;
- the smart robot's photos and files are downloaded encrypted with the
  bot's key and nothing around the file (decrypt_media).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from wechatpy.enterprise.crypto import PrpCrypto


class CryptoError(Exception):
    """A callback that is not authentic or cannot be decrypted."""


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


def decrypt_media(data: bytes, encoding_aes_key: str) -> bytes:
    """A smart robot's photo or file as downloaded from its url → the file:
    AES-256-CBC with the bot's EncodingAESKey, IV = key[:16], PKCS#7 padding
    to 32 bytes, and (unlike a callback) no random prefix, length or receive
    id around it (WECOM.md §7, Tencent's smart-robot demo)."""
    key = base64.b64decode(encoding_aes_key + "=")
    if len(key) != 32:
        raise CryptoError("EncodingAESKey must decode to 32 bytes")
    if not data or len(data) % 16:
        raise CryptoError("not whole AES blocks: not an encrypted file")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= 32 or pad > len(plain) or plain[-pad:] != bytes([pad]) * pad:
        raise CryptoError("bad padding: not encrypted with this bot's key")
    return plain[:-pad]


class MessageCrypto:
    def __init__(self, token: str, encoding_aes_key: str, receive_id: str):
        self.token, self.receive_id = token, receive_id
        key = base64.b64decode(encoding_aes_key + "=")
        if len(key) != 32:
            raise ValueError("EncodingAESKey must decode to 32 bytes")
        self._prp = PrpCrypto(key)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        expected = signature(self.token, timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected, msg_signature or ""):
            raise CryptoError("bad signature")

    def decrypt(self, encrypt: str) -> str:
        """The plaintext, after checking padding and the receive id."""
        try:
            plain = self._prp.cipher.decrypt(base64.b64decode(encrypt, validate=True))
        except (binascii.Error, ValueError) as e:
            raise CryptoError(f"undecryptable: {e}") from None
        pad = plain[-1] if plain else 0
        if not 1 <= pad <= 32 or len(plain) < 20 + pad:
            raise CryptoError("bad padding")
        content = plain[16:-pad]
        (length,) = struct.unpack(">I", content[:4])
        if length > len(content) - 4:
            raise CryptoError("bad length")
        try:
            message = content[4:4 + length].decode("utf-8")
            receive_id = content[4 + length:].decode("utf-8")
        except UnicodeDecodeError:
            raise CryptoError("not UTF-8") from None
        if not hmac.compare_digest(receive_id.encode(), self.receive_id.encode()):
            raise CryptoError("receive id is not ours")
        return message

    def encrypt(self, message: str) -> str:
        return self._prp.encrypt(message, self.receive_id).decode()

    def open(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> str:
        """Verify, then decrypt: the one entry point for inbound callbacks."""
        self.verify(msg_signature, timestamp, nonce, encrypt)
        return self.decrypt(encrypt)

    def seal_xml(self, message: str, timestamp: str, nonce: str | None = None) -> str:
        """An encrypted passive reply for the app callback."""
        nonce = nonce or secrets.token_hex(8)
        encrypt = self.encrypt(message)
        sig = signature(self.token, timestamp, nonce, encrypt)
        return (f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
                f"<MsgSignature><![CDATA[{sig}]]></MsgSignature>"
                f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>")

    def seal_json(self, message: str, timestamp: str, nonce: str | None = None) -> str:
        """An encrypted passive reply for the smart robot (JSON)."""
        nonce = nonce or secrets.token_hex(8)
        encrypt = self.encrypt(message)
        return json.dumps({"encrypt": encrypt, "msgsignature": signature(self.token, timestamp, nonce, encrypt),
                           "timestamp": timestamp, "nonce": nonce})
