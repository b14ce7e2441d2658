"""The one clock. Everything asks `clock.now()` so tests can run a month.

Times are Asia/Shanghai wall-clock, naive (see storage/models.py)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock:
    def now(self) -> datetime:
        return datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)

    def today(self) -> date:
        return self.now().date()


class FrozenClock(Clock):
    """A clock that moves only when told to (tests, the demo's time travel)."""

    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


system_clock = Clock()


def epoch(moment: datetime) -> int:
    """Unix seconds of a Shanghai wall-clock time (WeCom's timestamps)."""
    return int(moment.replace(tzinfo=SHANGHAI).timestamp())
