"""The smart robot's late answer (智能机器人 `response_url`): one POST of
markdown to the url that came with the user's message, valid for an hour
and usable once (WECOM.md §5, §7). Used when an answer was not ready in
time for the passive reply; the url comes with the row, never from the
addresses table. One POST means one part: a longer answer is shortened
with a pointer to the 1:1 chat rather than split."""
from bot.outbound.channel import Channel

MORE = "\n……（内容较长，未显示完。请单聊“支部通”发送同一命令查看全文）"


class AibotResponse(Channel):
    kind = "aibot_response"
    byte_limit = 4096
    per_message = True

    def parts(self, body: str) -> list[str]:
        text = self.render(body)
        if len(text.encode()) <= self.part_bytes:
            return [text]
        room = self.part_bytes - len(MORE.encode())
        return [text.encode()[:room].decode("utf-8", errors="ignore") + MORE]

    def post(self, address: str, content: str) -> None:
        self.client.respond(address, content)
