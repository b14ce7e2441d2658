"""Turning WeCom's wire formats into one typed Inbound message.

XML is read by one bounded, streaming reader (stdlib expat, no tree): a
DOCTYPE is refused at once, so no entity (billion laughs) or external
entity (XXE) is ever declared, and reading stops at the first element past
the limits of what WeCom sends — a hostile 64 KB body of empty elements or
deep nesting costs microseconds, not a parse. Nothing outside bot/wecom/
knows these field names.

The smart robot's JSON (WECOM.md §5, §7) is read strictly: every field of
the wrong type (`text` a string instead of an object, a userid that is a
number) or a NUL in any text is a BadMessage (400), as malformed XML is on
the app channel; a lone UTF-16 surrogate (valid JSON, but no character)
makes the message `unreadable` — logged, answered, and deduped like any
other, so WeCom's retries do not fail again. Its kinds: text, mixed (the
text items are the command, the images its evidence), image / file / video
(an encrypted url: evidence), voice (its speech-to-text is the command),
a quoted message (its photo or file counts as evidence too), event
(enter_chat, template_card_event, feedback_event) and stream refreshes.
The long connection's frames carry the same body (`aibot_body`), each
photo or file with its own `aeskey` (kept with the Media).
@-mentions are removed wherever they are: the bot's own names (config
aibot.name, names with spaces too), WeChat-style mentions ended by U+2005,
and any @word at the start or the end."""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from xml.parsers import expat

from handlers.inbound import Inbound, Media  # the typed message handlers read; built here

log = logging.getLogger(__name__)
MEDIA_KINDS = ("image", "voice", "video", "file")
CARD_EVENT = "template_card_event"
_SURROGATE = re.compile("[\ud800-\udfff]")
_AES_KEY = re.compile(r"[A-Za-z0-9+/]{43,44}={0,2}")  # base64 of 32 bytes, with or without its "="


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
        if event == CARD_EVENT:  # a button of one of our cards: EventKey is the button's key
            return Inbound("app", user, "event", f.get("EventKey", "")[:1024], key, event=event,
                           card_task=f.get("TaskId", "")[:128] or None,
                           response_code=f.get("ResponseCode", "")[:512] or None)
        return Inbound("app", user, "event", f.get("EventKey", ""), key, event=event,
                       latitude=_float(f.get("Latitude")), longitude=_float(f.get("Longitude")))
    key = f"app:msg:{f.get('MsgId') or user + ':' + f.get('CreateTime', '')}"
    if kind == "location":
        return Inbound("app", user, kind, "", key, latitude=_float(f.get("Location_X")),
                       longitude=_float(f.get("Location_Y")), label=f.get("Label") or None)
    media_id = f.get("MediaId") or None
    if kind in MEDIA_KINDS and media_id:  # file: not documented for app callbacks; read if it comes
        name = f.get("Title") or f.get("FileName") or None
        return Inbound("app", user, kind, "", key, media_id=media_id, file_name=name,
                       media=(Media(kind, media_id=media_id, file_name=name),))
    return Inbound("app", user, kind, f.get("Content", ""), key)


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


def configured_names(config) -> tuple[str, ...]:
    """The smart robot's names (`aibot.name`, comma-separated): @-mentions of them are stripped."""
    return tuple(name.strip() for name in config["aibot.name"].split(",") if name.strip())


def aibot_message(plaintext: str, bot_names: tuple[str, ...] = ()) -> Inbound:
    """A smart robot callback's plaintext → Inbound (see the module's doc)."""
    try:
        doc = json.loads(plaintext)
    except ValueError:
        raise BadMessage("smart-robot message is not JSON") from None
    return aibot_body(doc, bot_names)


def aibot_body(doc: object, bot_names: tuple[str, ...] = ()) -> Inbound:
    """A smart robot message as a JSON object → Inbound: the decrypted
    callback, or the body of a long-connection frame (the same fields, plus
    each photo's or file's own `aeskey`)."""
    if not isinstance(doc, dict):
        raise BadMessage("smart-robot message is not an object")
    user = _name(_field(_object(doc, "from", required=True), "userid", required=True), "from.userid", 64)
    kind = _name(_field(doc, "msgtype", required=True), "msgtype", 32)
    msg_id = _name(_field(doc, "msgid"), "msgid", 128)
    created = doc.get("create_time", "")
    if not isinstance(created, (int, str)) or len(str(created)) > 20:
        raise BadMessage("bad create_time")
    key = f"aibot:{msg_id or user + ':' + _name(str(created), 'create_time', 20)}"
    common = dict(chat_id=_name(_field(doc, "chatid"), "chatid", 128) or None,
                  response_url=_name(_field(doc, "response_url"), "response_url", 2048) or None)
    if kind == "stream":  # a refresh of a stream we already finished
        return Inbound("aibot", user, kind, "", key, **common)
    if kind == "event":
        body = _object(doc, "event", required=True)
        event = _name(_field(body, "eventtype", required=True), "eventtype", 64)
        if event == CARD_EVENT:  # event.template_card_event{card_type, event_key, task_id}
            click = _object(body, CARD_EVENT, required=True)
            return Inbound("aibot", user, kind, _name(_field(click, "event_key"), "event_key", 1024), key,
                           event=event, card_task=_name(_field(click, "task_id"), "task_id", 128) or None,
                           response_code=_name(_field(click, "response_code"), "response_code", 512) or None,
                           **common)
        return Inbound("aibot", user, kind, "", key, event=event, **common)
    texts: list[str] = []
    media: list[Media] = []
    if kind == "text":
        texts.append(_field(_object(doc, "text", required=True), "content"))
    elif kind == "voice":  # WeCom's speech-to-text of it
        texts.append(_field(_object(doc, "voice", required=True), "content"))
    elif kind == "mixed":
        _items(_object(doc, "mixed", required=True), texts, media)
    elif kind in MEDIA_KINDS:
        media.append(_media(kind, _object(doc, kind, required=True)))
    quote = _quote(doc, media)
    text = strip_mentions(" ".join(t for t in texts if t), bot_names)
    for value in (text, quote, *(m.file_name or "" for m in media)):
        if "\x00" in value:
            raise BadMessage("NUL in a smart-robot message")
    if any(_SURROGATE.search(v) for v in (text, quote, *(m.file_name or "" for m in media))):
        log.warning("smart-robot message %s from %s has a lone surrogate: refused", key, user)
        return Inbound("aibot", user, "unreadable", _readable(text), key, **common)
    return Inbound("aibot", user, kind, text, key, media=tuple(media), quote=quote, **common)


def _object(doc: dict, name: str, required: bool = False) -> dict:
    value = doc.get(name)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise BadMessage(f"smart-robot field {name} is not an object")
    return value


def _field(doc: dict, name: str, required: bool = False) -> str:
    value = doc.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise BadMessage(f"smart-robot field {name} is not a string")
    return value


def _name(value: str, what: str, longest: int) -> str:
    """A field machines write (an id, a url): no NUL, no lone surrogate, not too long."""
    if len(value) > longest or "\x00" in value or _SURROGATE.search(value):
        raise BadMessage(f"bad smart-robot {what}")
    return value


def _media(kind: str, item: dict) -> Media:
    url = _name(_field(item, "url", required=True), f"{kind} url", 4096)
    if not url.startswith(("https://", "http://")):
        raise BadMessage(f"smart-robot {kind} url is not http(s)")
    key = _field(item, "aeskey") or None  # long connection: this file's own key (doc 101463)
    if key is not None and not _AES_KEY.fullmatch(key):
        raise BadMessage(f"bad smart-robot {kind} aeskey")
    return Media(kind, url=url, file_name=_field(item, "filename") or None, aes_key=key)


def _items(mixed: dict, texts: list[str], media: list[Media]) -> None:
    items = mixed.get("msg_item")
    if not isinstance(items, list):
        raise BadMessage("smart-robot mixed.msg_item is not a list")
    for item in items:
        if not isinstance(item, dict):
            raise BadMessage("smart-robot mixed item is not an object")
        kind = _field(item, "msgtype", required=True)
        if kind == "text":
            texts.append(_field(_object(item, "text", required=True), "content"))
        elif kind in MEDIA_KINDS:
            media.append(_media(kind, _object(item, kind, required=True)))


def _quote(doc: dict, media: list[Media]) -> str:
    """The quoted message's text; its photos and files join `media`."""
    quote = _object(doc, "quote")
    if not quote:
        return ""
    kind, texts = _field(quote, "msgtype"), []
    if kind in ("text", "voice"):
        texts.append(_field(_object(quote, kind), "content"))
    elif kind == "mixed":
        _items(_object(quote, "mixed", required=True), texts, media)
    elif kind in MEDIA_KINDS:
        media.append(_media(kind, _object(quote, kind, required=True)))
    return " ".join(t for t in texts if t)


def _readable(text: str) -> str:
    return text.encode("utf-8", errors="replace").decode("utf-8")


_WECHAT_MENTION = re.compile("@[^\\s@\u2005]{1,40}(?: [^\\s@\u2005]{1,40}){0,3}\u2005")
_LEADING = re.compile(r"^(?:\s*@\S+)+(?:\s+|$)")
_TRAILING = re.compile(r"(?:^|\s+)(?:@\S+\s*)+$")


def strip_mentions(text: str, bot_names: tuple[str, ...] = ()) -> str:
    """`text` without @-mentions: the bot's own names wherever they are
    (with spaces too), WeChat-style ones ended by U+2005, and any @word at
    the start or the end; what is left keeps its own spacing."""
    for name in sorted(bot_names, key=len, reverse=True):
        text = re.sub(rf"\s*@{re.escape(name)}(?=\s|$)|@{re.escape(name)}(?=[，,:：。.!！?？])", "", text,
                      flags=re.IGNORECASE)
    text = _WECHAT_MENTION.sub(" ", text)
    text = _LEADING.sub("", text)
    text = _TRAILING.sub("", text)
    return text.strip().lstrip("，,:：").strip()
