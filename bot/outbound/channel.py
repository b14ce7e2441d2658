"""What every channel is: `send(address, body)` that renders the body for
its platform, splits it to the platform's byte limit, paces itself, and
raises SendError(message, permanent) — never returns quietly on a failure.

A channel is one file in bot/outbound/channels/ and one entry in its
CHANNELS list; the addresses it serves are rows (owner, kind, value) with
`kind` = the channel's `kind`. Nothing else changes for a new one.

Pacing: a channel declares its `limits` (WeCom's, WECOM.md §3/§7): windows
of (span, count) per address or for the whole corp, counted in messages or
in person-times. Over a limit WeCom drops app messages silently (errcode
0), so the sender never exceeds one: a row that would is put back with a
later due time, at no cost of an attempt. When WeCom still says 45009 /
45033 / -1 (another process, another app of the corp, an hour block), the
address is left alone for 1, 2, 4 … up to 60 minutes — a minute block is
waited out in one step, an hour block in a few — and its rows are delayed,
never failed. 40058 (too long for WeCom, whatever our count said) makes the
channel split smaller from then on; nothing is dropped. The pacers are per
process: two processes sending at once share WeCom's budget, and the
45009 path above is what keeps them right. A worker that starts sending
(a new scheduler leader: the old one may have sent a minute ago) first
counts the last hour's sent rows from the database (`seed`)."""
from __future__ import annotations

import re
import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, ClassVar, Sequence

from bot.wecom.client import TOO_LONG, SendError
from storage.outbox import card_of

__all__ = ["Channel", "Limit", "SendError", "Pacer", "split_message", "plain_text", "MINUTE", "HOUR"]
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
BLOCK_STEPS = (60, 120, 240, 480, 960, 1920, 3600)  # seconds an address rests after each 45009 in a row
SMALLEST_PART = 256  # bytes: below this a 40058 is not about length
# The clock reads whole seconds, WeCom's timestamps its own: a unit leaves a
# window this much later than the window says, so WeCom never counts it twice.
MARGIN = timedelta(seconds=2)


class Pacer:
    """At most `limit` units per `span` for each key, for every (span, limit)
    window at once (30 a minute and 1,000 an hour), on the given clock; a
    unit counts for its span and MARGIN more."""

    def __init__(self, windows: Sequence[tuple[timedelta, int]], now: Callable[[], datetime]):
        self.windows, self.now = tuple((span + MARGIN, limit) for span, limit in sorted(windows)), now
        self.used: dict[str, list[deque]] = defaultdict(lambda: [deque() for _ in self.windows])
        self.totals: dict[str, list[int]] = defaultdict(lambda: [0] * len(self.windows))
        self.lock = threading.RLock()

    def wait(self, key: str, cost: int = 1, now: datetime | None = None) -> timedelta | None:
        """None if `cost` more units fit now, else how long until they do. A
        cost larger than a whole window goes when that window is empty."""
        now = now or self.now()
        longest = None
        with self.lock:
            for i, (span, limit) in enumerate(self.windows):
                entries, total = self.used[key][i], self._expire(key, i, now)
                if not entries or total + cost <= limit:
                    continue
                freed, until = 0, None
                for at, units in entries:  # the oldest entries leave the window first
                    freed += units
                    until = at + span
                    if total - freed + cost <= limit:
                        break
                wait = until - now
                longest = wait if longest is None or wait > longest else longest
        return longest

    def take(self, key: str, cost: int = 1, now: datetime | None = None) -> None:
        now = now or self.now()
        with self.lock:
            for i in range(len(self.windows)):
                entries = self.used[key][i]
                if entries and entries[-1][0] == now:
                    entries[-1] = (now, entries[-1][1] + cost)
                else:
                    entries.append((now, cost))
                self.totals[key][i] += cost

    def reserve(self, key: str, count: int = 1) -> timedelta | None:
        """None if `count` units may go now (and counts them), else how long to wait."""
        with self.lock:
            now = self.now()
            wait = self.wait(key, count, now)
            if wait is None:
                self.take(key, count, now)
            return wait

    def _expire(self, key: str, i: int, now: datetime) -> int:
        span, entries = self.windows[i][0], self.used[key][i]
        while entries and now - entries[0][0] >= span:
            self.totals[key][i] -= entries.popleft()[1]
        return self.totals[key][i]


@dataclass(frozen=True)
class Limit:
    """One of WeCom's limits on a channel."""
    windows: tuple[tuple[timedelta, int], ...]
    per: str = "address"    # "address", or "corp": one budget for every address
    unit: str = "message"   # or "person": a message counts once per person it reaches
    label: str = ""         # what the operator reads when a row waits for it


class Channel:
    """Base of the channels: subclasses set `kind`, `byte_limit`, their
    `limits`, and implement `post` (one part) and, if their platform does
    not show our light markdown, `render`; `people(address)` if a limit
    counts person-times. `per_message`: the address comes with each row
    (a one-use reply url) and never from the addresses table."""
    kind: ClassVar[str]
    byte_limit: ClassVar[int]
    limits: ClassVar[tuple[Limit, ...]] = ()
    per_message: ClassVar[bool] = False

    def __init__(self, client, now: Callable[[], datetime]):
        self.client, self.now = client, now
        self.pacers = [(limit, Pacer(limit.windows, now)) for limit in self.limits]
        self.lock = threading.Lock()
        self.blocks: dict[str, tuple[datetime, int]] = {}  # address -> (resting until, 45009s in a row)
        self.part_bytes = self.byte_limit  # lowered for good after a 40058

    def render(self, body: str) -> str:
        return body

    def parts(self, body: str) -> list[str]:
        """The body's parts; a card's text version where a card cannot go,
        nothing for a card's update (only the app's own channel makes it)."""
        text, card = card_of(body)
        if card is not None and card.response_code:
            return []
        return split_message(self.render(text), self.part_bytes)

    def people(self, address: str) -> int:
        """How many people one message to `address` reaches."""
        return 1

    def admit(self, address: str, count: int, now: datetime | None = None) -> None:
        """Count `count` messages to `address` against every limit, or raise
        a paced SendError (nothing tried, no attempt spent) saying how long."""
        now = now or self.now()
        with self.lock:
            rest = self.blocks.get(address)
        if rest and now < rest[0]:
            raise SendError(f"企业微信限频，{rest[0]:%H:%M:%S} 后再发", permanent=False,
                            retry_after=(rest[0] - now).total_seconds(), attempted=False)
        people = self.people(address) if any(limit.unit == "person" for limit in self.limits) else 1
        with self.lock:
            asks = [(limit, pacer, address if limit.per == "address" else "*",
                     count * (people if limit.unit == "person" else 1)) for limit, pacer in self.pacers]
            waits = [(pacer.wait(key, cost, now), limit) for limit, pacer, key, cost in asks]
            waiting = [(wait, limit) for wait, limit in waits if wait is not None]
            if waiting:
                wait, limit = max(waiting, key=lambda w: w[0])
                raise SendError(f"{limit.label or self.kind + ' 频率上限'}：{_duration(wait)}后发送",
                                permanent=False, retry_after=wait.total_seconds(), attempted=False)
            for limit, pacer, key, cost in asks:
                pacer.take(key, cost, now)

    def seed(self, sent: list[tuple[str, datetime]]) -> None:
        """Start the windows afresh from what was sent (address, when; oldest
        first), one message a row — the only count another process leaves.
        A limit in person-times counts each chat's size (asked once a day
        anyway, for its next send); a chat whose size cannot be had now is
        left out (its next send asks again)."""
        fresh = [(limit, Pacer(limit.windows, self.now)) for limit in self.limits]
        people: dict[str, int | None] = {}
        for address, at in sent:
            for limit, pacer in fresh:
                cost = 1
                if limit.unit == "person":
                    if address not in people:
                        try:
                            people[address] = self.people(address)
                        except SendError:
                            people[address] = None
                    if people[address] is None:
                        continue
                    cost = people[address]
                pacer.take(address if limit.per == "address" else "*", cost, at)
        with self.lock:
            self.pacers = fresh

    def send(self, address: str, body: str) -> int:
        """Send every part in order; how many parts went."""
        parts = self.parts(body)
        if not parts:
            return 0
        self.admit(address, len(parts))
        i = 0
        while i < len(parts):
            try:
                self.post(address, parts[i])
            except SendError as e:
                if e.rate_limited:
                    raise self._rest(address, e) from None
                if e.code != TOO_LONG:
                    raise
                parts[i:] = self._smaller(address, parts[i:])
                continue
            i += 1
        with self.lock:
            self.blocks.pop(address, None)
        return len(parts)

    def post(self, address: str, content: str) -> None:
        raise NotImplementedError

    def _rest(self, address: str, error: SendError) -> SendError:
        """WeCom refused for frequency: leave this address alone a while."""
        now = self.now()
        with self.lock:
            streak = self.blocks.get(address, (now, 0))[1]
            wait = BLOCK_STEPS[min(streak, len(BLOCK_STEPS) - 1)]
            self.blocks[address] = (now + timedelta(seconds=wait), streak + 1)
        return SendError(f"{error}：等待{_duration(timedelta(seconds=wait))}后重试", permanent=False,
                         retry_after=wait, rate_limited=True, code=error.code)

    def _smaller(self, address: str, rest: list[str]) -> list[str]:
        """40058: split the refused part and the rest at half its size (and
        keep that size); the extra parts are paced like the others."""
        refused = len(rest[0].encode())
        smaller = min(self.part_bytes, refused) // 2
        if smaller < SMALLEST_PART:
            raise SendError(f"{TOO_LONG} 内容过长：拆到 {refused} 字节仍被拒绝", permanent=True, code=TOO_LONG)
        self.part_bytes = smaller
        pieces = [piece for part in rest for piece in split_message(part, smaller)]
        try:
            self.admit(address, len(pieces) - len(rest))
        except SendError as e:  # the earlier parts went: the row goes again, whole, when there is room
            raise SendError(f"{TOO_LONG} 内容过长，已改为更小的分段；{e}", permanent=False,
                            retry_after=e.retry_after) from None
        return pieces


def _duration(wait: timedelta) -> str:
    seconds = max(1, round(wait.total_seconds()))
    if seconds < 90:
        return f" {seconds} 秒"
    if seconds < 5400:
        return f" {round(seconds / 60)} 分钟"
    return f" {seconds / 3600:.1f} 小时"


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
