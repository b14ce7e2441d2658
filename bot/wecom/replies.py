"""Bodies WeCom and we exchange as plaintext (before encryption): passive
replies, and the app callback's own message format for `say`."""
from __future__ import annotations

import json


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply_xml(to_user: str, corp_id: str, content: str, create_time: int) -> str:
    return (f"<xml><ToUserName>{_cdata(to_user)}</ToUserName><FromUserName>{_cdata(corp_id)}"
            f"</FromUserName><CreateTime>{create_time}</CreateTime><MsgType>{_cdata('text')}"
            f"</MsgType><Content>{_cdata(content)}</Content></xml>")


def stream_reply_json(stream_id: str, content: str) -> str:
    """The smart robot's passive reply: one finished stream message."""
    return json.dumps({"msgtype": "stream",
                       "stream": {"id": stream_id, "finish": True, "content": content}},
                      ensure_ascii=False)


def text_reply_json(content: str) -> str:
    """The smart robot's passive text reply: only as the welcome to enter_chat."""
    return json.dumps({"msgtype": "text", "text": {"content": content}}, ensure_ascii=False)


def app_text_xml(corp_id: str, user: str, content: str, create_time: int, msg_id: int, agent_id: int) -> str:
    """A text message as WeCom posts it to the app callback (plaintext, before
    encryption): what `python -m bot say` sends to check a deployment."""
    return (f"<xml><ToUserName>{_cdata(corp_id)}</ToUserName><FromUserName>{_cdata(user)}</FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType>{_cdata('text')}</MsgType>"
            f"<Content>{_cdata(content)}</Content><MsgId>{msg_id}</MsgId><AgentID>{agent_id}</AgentID></xml>")


def envelope_xml(encrypt: str) -> str:
    """The body WeCom posts: the encrypted message in its envelope."""
    return f"<xml><Encrypt>{_cdata(encrypt)}</Encrypt></xml>"
