"""The one clock. Everything asks `clock.now()` so tests can run a month.

Times are wall-clock times in the one configured zone (`scheduler.timezone`,
Asia/Shanghai by default), stored naive (see storage/models.py): the
scheduler's triggers, the quiet hours, the dates on records and WeCom's
epoch timestamps all read this same zone."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")


class Clock:
    def __init__(self, zone: ZoneInfo = DEFAULT_ZONE):
        self.zone = zone

    def now(self) -> datetime:
        return datetime.now(self.zone).replace(tzinfo=None, microsecond=0)

    def today(self) -> date:
        return self.now().date()

    def epoch(self, moment: datetime | None = None) -> int:
        """Unix seconds of a wall-clock time in our zone (now by default):
        WeCom's timestamps."""
        return int((moment or self.now()).replace(tzinfo=self.zone).timestamp())


class FrozenClock(Clock):
    """A clock that moves only when told to (tests, the demo's time travel)."""

    def __init__(self, at: datetime, zone: ZoneInfo = DEFAULT_ZONE):
        super().__init__(zone)
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)
