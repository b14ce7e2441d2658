"""A push over the smart robot's long connection (`aibot_send_msg`, doc
101463): markdown to a chat the bot is in — a branch group by its chatid,
or a person by their userid — with no webhook key and no public URL.

Two kinds, one wire: `aibot_chat` is an address (a branch group's chatid,
learned from the group's first message or set by the roster), so a group
with the smart robot needs no group-robot key; `aibot_chat_reply` names
the chat on the row itself (a late answer to a message that came over the
connection, as `aibot_response` does for a callback's response_url).

Only the process holding the connection (the scheduler's leader, which
also runs the delivery worker) can send; anywhere else, or while the
connection is down, the send fails transiently and the worker tries again.
A message counts as sent only on WeCom's ack (errcode 0)."""
from bot.outbound.channel import MINUTE, Channel, Limit, SendError
from bot.wecom import longconn


class AibotChat(Channel):
    kind = "aibot_chat"
    byte_limit = 4096   # markdown, as the group robot's (unverified for aibot_send_msg)
    # WeCom documents no rate for aibot_send_msg: paced as a group robot, 20 a minute per chat.
    limits = (Limit(((MINUTE, 20),), label="智能机器人每个会话每分钟 20 条"),)

    def post(self, address: str, content: str) -> None:
        connection = longconn.current()
        if connection is None:
            raise SendError("智能机器人长连接未建立（或不在本进程），稍后重试", permanent=False, retry_after=30)
        connection.request("aibot_send_msg", {"chatid": address, "msgtype": "markdown",
                                              "markdown": {"content": content}})


class AibotChatReply(AibotChat):
    kind = "aibot_chat_reply"
    per_message = True
