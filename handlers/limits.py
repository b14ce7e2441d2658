"""How much a person may type, field by field — one table, one rule.

The rule: what someone typed as a command argument is stored as written
or refused as 太长 ("too long"), never cut silently (a 说明 cut at 500
characters is no longer what was written, and nobody would know).

Why these numbers: a report's 说明 lands in a ledger cell and is quoted
back in replies; a 发布's title and content go out as one group message,
and WeCom's text messages (a passive reply, an app message, a group
robot's text) hold 2,048 bytes — 3 bytes a Chinese character — so title,
content and the message's own lines must stay under that, or one 发布 turns
into a stream of messages to every group. A whole chat message longer than
MESSAGE_CHARS is not parsed at all: no command needs that much."""
from __future__ import annotations

from dataclasses import dataclass

from handlers.context import CommandError

MESSAGE_CHARS = 2000  # the longest chat message the bot reads
TOO_LONG_MESSAGE = "消息太长（{n}字）：一条消息最多{limit}字。请精简后重新发送，本条未做任何处理。"


@dataclass(frozen=True)
class Limit:
    what: str   # the field as the user knows it
    chars: int

    def check(self, text: str) -> str:
        """`text` unchanged, or a CommandError saying it is too long."""
        if len(text) > self.chars:
            raise CommandError(f"{self.what}太长（{len(text)}字），最多{self.chars}字。"
                               "请精简后重新发送，本条未做任何记录。")
        return text


NOTE = Limit("说明", 500)            # 完成 / 更正: a ledger cell, quoted by 更正
MEETING_NOTE = Limit("会议说明", 500)
CHECKIN_NOTE = Limit("签到说明", 200)
REASON = Limit("退回原因", 200)      # goes to the branch group in the return notice
TITLE = Limit("任务标题", 50)        # a sheet line and every reply that names the task
CONTENT = Limit("任务内容", 500)     # with TITLE: (50 + 500) × 3 bytes + the message's lines < 2,048
VOLUNTEER_NOTE = Limit("志愿服务说明", 200)  # a ledger cell
STUDY_CONTENT = Limit("学习内容", 200)       # a ledger cell
