"""How much one message may carry, and splitting text that is longer."""
from __future__ import annotations

# bytes of UTF-8 content per message, by channel (WECOM.md §3, §4)
CONTENT_LIMIT = {"robot": 4096, "appchat": 2048, "user": 2048}


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
