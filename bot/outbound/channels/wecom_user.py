"""One person through the self-built app (`message/send`, touser): markdown
up to 2,048 bytes, with WeCom's duplicate check. Every member with a WeCom
id has this address without a row (see bot/outbound/worker.py `route`)."""
from bot.outbound.channel import Channel


class WeComUser(Channel):
    kind = "wecom_user"
    byte_limit = 2048

    def post(self, address: str, content: str) -> None:
        self.client.send_user(address, content)
