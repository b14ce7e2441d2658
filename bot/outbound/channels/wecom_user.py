"""One person through the self-built app (`message/send`, touser): markdown
up to 2,048 bytes, with WeCom's duplicate check. Every member with a WeCom
id has this address without a row (see bot/outbound/worker.py `route`).

WeCom takes at most 30 app messages a minute and 1,000 an hour for one
person and drops the rest **with errcode 0** (WECOM.md §7), and at most
10,000 message/send calls a minute and 150,000 an hour from the corp: the
channel stays under all four."""
from bot.outbound.channel import HOUR, MINUTE, Channel, Limit


class WeComUser(Channel):
    kind = "wecom_user"
    byte_limit = 2048
    limits = (Limit(((MINUTE, 30), (HOUR, 1000)), label="每人每分钟 30 条、每小时 1000 条应用消息"),
              Limit(((MINUTE, 10_000), (HOUR, 150_000)), per="corp",
                    label="message/send 全企业每分钟 1 万次、每小时 15 万次"))

    def post(self, address: str, content: str) -> None:
        self.client.send_user(address, content)
