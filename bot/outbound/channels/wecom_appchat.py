"""A group chat the app created (`appchat/send`): markdown up to 2,048 bytes.

WeCom counts app-chat sends in person-times: a message to a chat of 20
costs 20 of the corp's 20,000 a minute and 150,000 an hour (the smallest
company tier; 350k / 700k for larger ones), and each member takes at most
200 a minute — the excess dropped without an error (WECOM.md §3, §7). The
chat's size comes from `appchat/get`, asked once a day per chat."""
from datetime import timedelta

from bot.outbound.channel import HOUR, MINUTE, Channel, Limit

SIZE_TTL = timedelta(days=1)


class WeComAppChat(Channel):
    kind = "wecom_appchat"
    byte_limit = 2048
    limits = (Limit(((MINUTE, 200),), label="群成员每分钟 200 条"),
              Limit(((MINUTE, 20_000), (HOUR, 150_000)), per="corp", unit="person",
                    label="应用群聊全企业每分钟 2 万人次、每小时 15 万人次"),
              Limit(((MINUTE, 10_000), (HOUR, 150_000)), per="corp",
                    label="appchat/send 全企业每分钟 1 万次、每小时 15 万次"))

    def __init__(self, client, now):
        super().__init__(client, now)
        self.sizes: dict[str, tuple[int, object]] = {}  # chat id -> (members, when asked)

    def people(self, address: str) -> int:
        now = self.now()
        known = self.sizes.get(address)
        if known is None or now - known[1] > SIZE_TTL:
            known = (self.client.appchat_members(address), now)
            self.sizes[address] = known
        return known[0]

    def post(self, address: str, content: str) -> None:
        self.client.send_appchat(address, content)
