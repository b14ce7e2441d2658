"""A group chat the app created (`appchat/send`): markdown up to 2,048 bytes."""
from bot.outbound.channel import Channel


class WeComAppChat(Channel):
    kind = "wecom_appchat"
    byte_limit = 2048

    def post(self, address: str, content: str) -> None:
        self.client.send_appchat(address, content)
