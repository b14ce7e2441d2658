"""Turning WeCom's wire formats into one typed Inbound message.

XML is read by one bounded, streaming reader (stdlib expat, no tree): a
DOCTYPE is refused at once, so no entity (billion laughs) or external
entity (XXE) is ever declared, and reading stops at the first element past
the limits of what WeCom sends — a hostile 64 KB body of empty elements or
deep nesting costs microseconds, not a parse. Nothing outside bot/wecom/
knows these field names."""
from __future__ import annotations

import json
from dataclasses import dataclass
from xml.parsers import expat

from handlers.inbound import Inbound  # the typed message handlers read; built here


class BadMessage(Exception):
    """Malformed or hostile input; refused with 400."""


@dataclass(frozen=True)
class XmlLimits:
    depth: int
    elements: int


# The envelope is <xml> with ToUserName, Encrypt, AgentID (and the reply's
# MsgSignature, TimeStamp, Nonce when `say` reads our answer): flat, a handful.
ENVELOPE = XmlLimits(depth=2, elements=16)
# A decrypted message is flat too; a template-card event nests a little
# (SelectedItems/SelectedItem/OptionIds/OptionId). Generous, still bounded.
MESSAGE = XmlLimits(depth=6, elements=256)


def parse_xml(body: bytes | str, limits: XmlLimits = MESSAGE) -> dict[str, str]:
    """A flat dict of an XML document's top-level children (the text of each),
    read with `limits`; anything else raises BadMessage."""
    fields: dict[str, str] = {}
    depth, count, tag, text = 0, 0, "", []

    def start(name: str, _attrs) -> None:
        nonlocal depth, count, tag, text
        depth, count = depth + 1, count + 1
        if depth > limits.depth or count > limits.elements:
            raise BadMessage("XML refused: too deep or too many elements")
        if depth == 1 and name != "xml":
            raise BadMessage("XML root is not <xml>")
        if depth == 2:
            tag, text = name, []

    def end(_name: str) -> None:
        nonlocal depth
        if depth == 2:
            fields[tag] = "".join(text)
        depth -= 1

    def chars(data: str) -> None:
        if depth == 2:
            text.append(data)

    def refuse(*_args) -> None:
        raise BadMessage("XML refused: DTDs and entities are not allowed")

    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    try:
        parser.Parse(body, True)
    except (expat.ExpatError, ValueError) as e:  # ValueError: a str with a NUL or a lone surrogate
        raise BadMessage(f"XML refused: {type(e).__name__}") from None
    return fields


def envelope_xml(body: bytes) -> tuple[str, str]:
    """(Encrypt, ToUserName) of an app callback body."""
    fields = parse_xml(body, ENVELOPE)
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
    except (ValueError, RecursionError):  # RecursionError: [[[[… nested past the interpreter's stack
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
