"""Dates and lists as a village secretary reads them on a phone (pure)."""
from __future__ import annotations

from datetime import date, datetime

from storage.month import Month

WEEKDAYS = "一二三四五六日"
REPLY_LIMIT = 2048  # bytes: WeCom's text message limit


def day(d: date, today: date | None = None) -> str:
    """11月30日（周一）; 2027年1月5日（周二） when `today` is in another year,
    so a deadline a year or more away is not read as this year's."""
    year = f"{d.year}年" if today is not None and d.year != today.year else ""
    return f"{year}{d.month}月{d.day}日（周{WEEKDAYS[d.weekday()]}）"


def moment(dt: datetime) -> str:
    """11月16日 10:17"""
    return f"{dt.month}月{dt.day}日 {dt:%H:%M}"


def fit(text: str, limit: int = REPLY_LIMIT) -> str:
    """Cut at a line boundary so the reply fits one WeCom message; a first
    line that alone is too long is cut between characters (never inside one)."""
    if len(text.encode()) <= limit:
        return text
    tail = "\n……（内容较多，请在管理页面查看全部）"
    kept, size = [], len(tail.encode())
    for line in text.split("\n"):
        size += len(line.encode()) + 1
        if size > limit:
            if not kept:  # keep what fits of it rather than nothing at all
                room = limit - len(tail.encode())
                kept.append(line.encode()[:room].decode("utf-8", "ignore"))
            break
        kept.append(line)
    return "\n".join(kept) + tail


def quote(text: str, chars: int = 20) -> str:
    """Something stored or typed, shortened to be quoted in a reply."""
    return text if len(text) <= chars else text[:chars] + "……"


def task_label(task, current: Month | None = None) -> str:
    """第3项 in the current month; 10月第2项 for any other (or with no current)."""
    return Month.iso(task.month).item_label(task.number, current)


def task_ref(task, today: date) -> str:
    """How to name a task in `完成 …` on `today`: 3 this month, 10月第2项 otherwise."""
    return str(task.number) if task.month == str(Month.of(today)) else task_label(task)


def mask_phone(phone: str | None) -> str:
    """138****1234: the first three and last four digits of a mobile number,
    for pages and exports seen by anyone but the org department asking."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) <= 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_id_number(number: str | None) -> str:
    """110105********1234 for an 18-digit ID number: region and the last four."""
    if not number:
        return ""
    n = number.strip()
    return n[:6] + "*" * max(len(n) - 10, 0) + n[-4:] if len(n) > 10 else "*" * len(n)


def backfill_words(meeting) -> str:
    """A duty's report that is a meeting logged days after it was held
    (storage.meetings.LateMeeting): 补记录：会议 3月5日召开，会后 9 天登记."""
    return f"补记录：会议 {meeting.held_on.month}月{meeting.held_on.day}日召开，会后 {meeting.lag_days} 天登记"
