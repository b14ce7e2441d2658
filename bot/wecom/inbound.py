"""Turning WeCom's wire formats into one typed Inbound message.

XML goes through defusedxml with DTDs forbidden: a DOCTYPE, an entity
(billion laughs) or an external entity (XXE) is refused before anything is
read. Nothing outside bot/wecom/ knows these field names."""
from __future__ import annotations

import json

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from xml.etree.ElementTree import ParseError

from handlers.inbound import Inbound  # the typed message handlers read; built here


class BadMessage(Exception):
    """Malformed or hostile input; refused with 400."""


def parse_xml(body: bytes | str) -> dict[str, str]:
    """A flat dict of an XML document's top-level children, safely."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError) as e:
        raise BadMessage(f"XML refused: {type(e).__name__}") from None
    if root.tag != "xml":
        raise BadMessage("XML root is not <xml>")
    return {child.tag: (child.text or "") for child in root}


def envelope_xml(body: bytes) -> tuple[str, str]:
    """(Encrypt, ToUserName) of an app callback body."""
    fields = parse_xml(body)
    if not fields.get("Encrypt"):
        raise BadMessage("no Encrypt field")
    return fields["Encrypt"], fields.get("ToUserName", "")


def app_message(plaintext: str) -> Inbound:
    f = parse_xml(plaintext)
    kind, user = f.get("MsgType", ""), f.get("FromUserName", "")
    if not kind or not user:
        raise BadMessage("no MsgType or FromUserName")
    if kind == "event":
        event = f.get("Event", "")
        key = f"app:ev:{user}:{f.get('CreateTime', '')}:{event}"
        return Inbound("app", user, "event", f.get("EventKey", ""), key, event=event,
                       latitude=_float(f.get("Latitude")), longitude=_float(f.get("Longitude")))
    key = f"app:msg:{f.get('MsgId') or user + ':' + f.get('CreateTime', '')}"
    if kind == "location":
        return Inbound("app", user, kind, "", key, latitude=_float(f.get("Location_X")),
                       longitude=_float(f.get("Location_Y")), label=f.get("Label") or None)
    return Inbound("app", user, kind, f.get("Content", ""), key, media_id=f.get("MediaId") or None,
                   file_name=f.get("Title") or f.get("FileName") or None)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def envelope_json(body: bytes) -> str:
    """The `encrypt` field of a smart-robot callback body."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadMessage("body is not JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("encrypt"), str):
        raise BadMessage("no encrypt field")
    return doc["encrypt"]


def aibot_message(plaintext: str) -> Inbound:
    try:
        doc = json.loads(plaintext)
        user = doc["from"]["userid"]
    except (ValueError, KeyError, TypeError):
        raise BadMessage("smart-robot message without from.userid") from None
    kind = doc.get("msgtype", "")
    key = f"aibot:{doc.get('msgid') or user + ':' + str(doc.get('create_time', ''))}"
    text = (doc.get("text") or {}).get("content", "") if kind == "text" else ""
    event = (doc.get("event") or {}).get("eventtype") if kind == "event" else None
    return Inbound("aibot", user, kind, text, key, event=event, chat_id=doc.get("chatid"),
                   response_url=doc.get("response_url"))
