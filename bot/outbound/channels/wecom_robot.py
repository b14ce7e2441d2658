"""A branch group's robot webhook (群机器人, `webhook/send?key=…`): markdown
up to 4,096 bytes, at most 20 messages a minute per robot (WECOM.md §4)."""
from bot.outbound.channel import MINUTE, Channel, Limit


class WeComRobot(Channel):
    kind = "wecom_robot"
    byte_limit = 4096
    limits = (Limit(((MINUTE, 20),), label="群机器人每分钟 20 条"),)

    def post(self, address: str, content: str) -> None:
        self.client.send_robot(address, content)
