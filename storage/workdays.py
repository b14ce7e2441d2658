"""Chinese working days, from the maintained `chinesecalendar` library
(public holidays and make-up workdays as the State Council publishes them).

The library knows only the years published; for any other year we fall back
to Monday–Friday, log it once, and `unknown_years()` lets the dashboard say
so (SPEC: "What the platform allows")."""
from __future__ import annotations

import calendar
import logging
from datetime import date, timedelta

import chinese_calendar

log = logging.getLogger(__name__)
_warned: set[int] = set()


def is_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned:
            _warned.add(day.year)
            log.warning("节假日数据不含 %s 年：按周一至周五计算工作日", day.year)
        return day.weekday() < 5


def is_known_year(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
        return True
    except NotImplementedError:
        return False


def unknown_years() -> list[int]:
    return sorted(_warned)


def first_workday(year: int, month: int) -> date:
    day = date(year, month, 1)
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def last_workday(year: int, month: int) -> date:
    day = date(year, month, calendar.monthrange(year, month)[1])
    while not is_workday(day):
        day -= timedelta(days=1)
    return day


def next_workday(day: date) -> date:
    """The first working day after `day`."""
    day += timedelta(days=1)
    while not is_workday(day):
        day += timedelta(days=1)
    return day
