"""WeCom's side of the callback, built on Tencent's own sample crypto
(WXBizMsgCrypt3 from the `weworkapi` package), independent of ours: it
encrypts and signs what we receive, and decrypts what we answer."""
from __future__ import annotations

import itertools
import json
import xml.etree.ElementTree as ET

from weworkapi.WXBizMsgCrypt3 import WXBizMsgCrypt


TOKEN = "zhibuToken2026"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"  # 43 chars
CORP_ID = "wwzhibu0000000001"
AIBOT_TOKEN = "aibotToken"
AIBOT_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
WECOM_SETTINGS = {"wecom.token": TOKEN, "wecom.encoding_aes_key": AES_KEY,
                  "wecom.corp_id": CORP_ID, "wecom.agent_id": 1000002,
                  "aibot.token": AIBOT_TOKEN, "aibot.encoding_aes_key": AIBOT_AES_KEY}
_ids = itertools.count(7_000_000_000_000_000_001)


def text_xml(user: str, content: str, msg_id: int | None = None, create_time: int = 1_700_000_000) -> str:
    return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]>"
            f"</FromUserName><CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id or next(_ids)}</MsgId>"
            f"<AgentID>1000002</AgentID></xml>")


def media_xml(user: str, kind: str, media_id: str) -> str:
    return (f"<xml><ToUserName>{CORP_ID}</ToUserName><FromUserName>{user}</FromUserName>"
            f"<CreateTime>1700000000</CreateTime><MsgType>{kind}</MsgType>"
            f"<PicUrl>http://example.invalid/p.jpg</PicUrl><MediaId>{media_id}</MediaId>"
            f"<MsgId>{next(_ids)}</MsgId><AgentID>1000002</AgentID></xml>")


def location_xml(user: str, lat: float, lng: float, label: str) -> str:
    return (f"<xml><ToUserName>{CORP_ID}</ToUserName><FromUserName>{user}</FromUserName>"
            f"<CreateTime>1700000000</CreateTime><MsgType>location</MsgType>"
            f"<Location_X>{lat}</Location_X><Location_Y>{lng}</Location_Y><Scale>15</Scale>"
            f"<Label><![CDATA[{label}]]></Label><MsgId>{next(_ids)}</MsgId><AgentID>1000002</AgentID></xml>")


def event_xml(user: str, event: str, create_time: int = 1_700_000_100) -> str:
    return (f"<xml><ToUserName>{CORP_ID}</ToUserName><FromUserName>{user}</FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType>event</MsgType><Event>{event}</Event>"
            f"<EventKey></EventKey><AgentID>1000002</AgentID></xml>")


def card_event_xml(user: str, event_key: str, task_id: str, response_code: str,
                   create_time: int = 1_700_000_200) -> str:
    """A click on a template card's button, as the app callback carries it (WECOM.md §1, §7)."""
    return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[{event_key}]]></EventKey>"
            f"<TaskId><![CDATA[{task_id}]]></TaskId><CardType><![CDATA[button_interaction]]></CardType>"
            f"<ResponseCode><![CDATA[{response_code}]]></ResponseCode><AgentID>1000002</AgentID></xml>")


class WeComPeer:
    def __init__(self, client, clock, token=TOKEN, aes_key=AES_KEY, receive_id=CORP_ID):
        self.client, self.clock = client, clock
        self.crypt = WXBizMsgCrypt(token, aes_key, receive_id)
        self.nonces = itertools.count(1)

    def sealed(self, plaintext: str, timestamp: int | None = None) -> tuple[str, dict]:
        """(POST body, query) exactly as WeCom sends a callback."""
        timestamp = str(timestamp or self.clock.epoch())
        nonce = f"n{next(self.nonces)}"
        ret, reply_style = self.crypt.EncryptMsg(plaintext, nonce, timestamp)
        assert ret == 0
        root = ET.fromstring(reply_style)
        encrypt, signature = root.findtext("Encrypt"), root.findtext("MsgSignature")
        body = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]>"
                f"</Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>")
        return body, {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}

    def post(self, plaintext: str, **kw):
        body, query = self.sealed(plaintext, **kw)
        return self.client.post("/wecom/callback", query_string=query, data=body,
                                content_type="text/xml")

    def open_reply(self, response) -> dict[str, str]:
        """Decrypt our passive reply with Tencent's code; the plaintext fields."""
        assert response.status_code == 200, response.status_code
        root = ET.fromstring(response.data)
        ret, plain = self.crypt.DecryptMsg(response.data.decode(), root.findtext("MsgSignature"),
                                           root.findtext("TimeStamp"), root.findtext("Nonce"))
        assert ret == 0, ret
        return {c.tag: c.text or "" for c in ET.fromstring(plain)}

    def say(self, user: str, content: str) -> str | None:
        response = self.post(text_xml(user, content))
        if not response.data:
            return None
        return self.open_reply(response)["Content"]


class AibotPeer:
    """The smart robot's JSON callbacks (receive id is the empty string)."""

    def __init__(self, client, clock):
        self.client, self.clock = client, clock
        self.crypt = WXBizMsgCrypt(AIBOT_TOKEN, AIBOT_AES_KEY, "")
        self.ids = itertools.count(1)

    def say(self, user: str, content: str, chat_id: str = "wrgroup1") -> dict | None:
        return self.open(self.post(self.message(user, "text", text={"content": content}, chat_id=chat_id)))

    def message(self, user: str, msgtype: str, chat_id: str | None = "wrgroup1",
                response_url: str = "http://127.0.0.1:9/r", **fields) -> dict:
        """A smart-robot callback as WeCom builds it (WECOM.md §5, §7)."""
        doc = {"msgid": f"aibot-{next(self.ids)}", "aibotid": "bot1", "chattype": "group" if chat_id else "single",
               "from": {"userid": user}, "response_url": response_url, "msgtype": msgtype, **fields}
        if chat_id:
            doc["chatid"] = chat_id
        return doc

    def post(self, doc: dict | str):
        """POST a plaintext (a dict, or JSON text as it is) sealed with Tencent's crypto."""
        plaintext = doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False)
        try:
            plaintext.encode()
        except UnicodeEncodeError:  # a lone surrogate is only sent as a \u escape
            plaintext = json.dumps(doc, ensure_ascii=True)
        timestamp, nonce = str(self.clock.epoch()), f"a{next(self.ids)}"
        ret, xml = self.crypt.EncryptMsg(plaintext, nonce, timestamp)
        assert ret == 0, ret
        root = ET.fromstring(xml)
        return self.client.post("/wecom/aibot", data=json.dumps({"encrypt": root.findtext("Encrypt")}),
                                query_string={"msg_signature": root.findtext("MsgSignature"),
                                              "timestamp": timestamp, "nonce": nonce},
                                content_type="application/json")

    def open(self, response) -> dict | None:
        """Our passive reply, decrypted with Tencent's code; None for an empty 200."""
        assert response.status_code == 200, response.status_code
        if not response.data:
            return None
        reply = response.get_json()
        ret, plain = self.crypt.DecryptMsg(
            f"<xml><Encrypt><![CDATA[{reply['encrypt']}]]></Encrypt></xml>", reply["msgsignature"],
            reply["timestamp"], reply["nonce"])
        assert ret == 0, ret
        return json.loads(plain)
