"""What every channel is: `send(address, body)` that renders the body for
its platform, splits it to the platform's byte limit, paces itself, and
raises SendError(message, permanent) — never returns quietly on a failure.

A channel is one file in bot/outbound/channels/ and one entry in its
CHANNELS list; the addresses it serves are rows (owner, kind, value) with
`kind` = the channel's `kind`. Nothing else changes for a new one."""
from __future__ import annotations

import re
import threading
from collections import defaultdict, deque
from datetime import datetime, timedelta
from typing import Callable, ClassVar

from bot.wecom.client import SendError

__all__ = ["Channel", "SendError", "Pacer", "split_message", "plain_text"]


class Pacer:
    """At most `per_minute` messages a minute to one address, on the given
    clock (per process: WeCom still answers 45009 when processes together
    exceed it, and that row is simply retried later)."""

    def __init__(self, per_minute: int, now: Callable[[], datetime]):
        self.per_minute, self.now = per_minute, now
        self.sent: dict[str, deque] = defaultdict(deque)
        self.lock = threading.Lock()

    def reserve(self, address: str, count: int) -> timedelta | None:
        """None if `count` messages may go now (and counts them), else how long to wait."""
        now = self.now()
        with self.lock:
            window = self.sent[address]
            while window and now - window[0] >= timedelta(minutes=1):
                window.popleft()
            if window and len(window) + count > self.per_minute:
                return timedelta(minutes=1) - (now - window[0]) + timedelta(seconds=1)
            window.extend([now] * count)
            return None


class Channel:
    """Base of the channels: subclasses set `kind`, `byte_limit`, optionally
    `per_minute`, and implement `post` (one part) and, if their platform does
    not show our light markdown, `render`."""
    kind: ClassVar[str]
    byte_limit: ClassVar[int]
    per_minute: ClassVar[int | None] = None  # per address

    def __init__(self, client, now: Callable[[], datetime]):
        self.client, self.now = client, now
        self.pacer = Pacer(self.per_minute, now) if self.per_minute else None

    def render(self, body: str) -> str:
        return body

    def parts(self, body: str) -> list[str]:
        return split_message(self.render(body), self.byte_limit)

    def send(self, address: str, body: str) -> int:
        """Send every part in order; how many parts went."""
        parts = self.parts(body)
        if self.pacer is not None:
            wait = self.pacer.reserve(address, len(parts))
            if wait is not None:
                raise SendError(f"{self.kind} 每分钟上限 {self.per_minute} 条，稍后发送", permanent=False,
                                retry_after=wait.total_seconds(), attempted=False)
        for part in parts:
            self.post(address, part)
        return len(parts)

    def post(self, address: str, content: str) -> None:
        raise NotImplementedError


_BOLD = re.compile(r"\*\*(.+?)\*\*")
_FONT = re.compile(r"</?font[^>]*>")


def plain_text(body: str) -> str:
    """Our light markdown without its marks, for channels that show text only."""
    return _FONT.sub("", _BOLD.sub(r"\1", body))


def split_message(text: str, limit: int) -> list[str]:
    """Parts of at most `limit` UTF-8 bytes, cut at line boundaries; a single
    line longer than the limit is cut between characters, never inside one."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in _short_lines(text.split("\n"), limit):
        cost = len(line.encode()) + (1 if current else 0)
        if current and size + cost > limit:
            parts.append("\n".join(current))
            current, size = [], 0
            cost = len(line.encode())
        current.append(line)
        size += cost
    if current:
        parts.append("\n".join(current))
    return parts or [""]


def _short_lines(lines: list[str], limit: int):
    for line in lines:
        while len(line.encode()) > limit:
            cut = len(line.encode()[:limit].decode("utf-8", errors="ignore"))
            yield line[:cut]
            line = line[cut:]
        yield line
