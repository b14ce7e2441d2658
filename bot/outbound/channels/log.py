"""A file: each message appended as plain text with the time it was
written. For dry runs and the demo — give a branch the address
(owner "org:ZB0001", kind "log", value "data/zb0001.log") and its
messages are written there instead of reaching WeCom."""
from __future__ import annotations

import threading
from pathlib import Path

from bot.outbound.channel import Channel, SendError, plain_text


class LogFile(Channel):
    kind = "log"
    byte_limit = 1_000_000
    lock = threading.Lock()

    def render(self, body: str) -> str:
        return plain_text(body)

    def post(self, address: str, content: str) -> None:
        path = Path(address)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self.lock, path.open("a", encoding="utf-8") as out:
                out.write(f"----- {self.now():%Y-%m-%d %H:%M:%S}\n{content}\n")
        except OSError as e:
            raise SendError(f"写入 {path} 失败：{e.strerror}", permanent=True) from None
