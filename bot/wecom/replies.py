"""Bodies of passive replies (plaintext, before encryption)."""
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
