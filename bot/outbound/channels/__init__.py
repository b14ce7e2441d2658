"""Every outbound channel, in order of preference: an owner with addresses
of several kinds is reached through the first of them. A new channel is a
file here and one line below."""
from __future__ import annotations

from bot.outbound.channel import Channel
from bot.outbound.channels.aibot_long import AibotChat, AibotChatReply
from bot.outbound.channels.aibot_response import AibotResponse
from bot.outbound.channels.log import LogFile
from bot.outbound.channels.wecom_appchat import WeComAppChat
from bot.outbound.channels.wecom_robot import WeComRobot
from bot.outbound.channels.wecom_user import WeComUser

CHANNELS: list[type[Channel]] = [
    WeComRobot,
    WeComAppChat,
    AibotChat,  # a group the smart robot is in, over its long connection: no webhook key needed
    WeComUser,
    LogFile,
    AibotResponse,  # per message: only rows that name it (a late smart-robot answer)
    AibotChatReply,  # per message: a late answer over the long connection
]
