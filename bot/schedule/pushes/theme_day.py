"""On the day of the month's 主题党日 (the plan's `day:`, else the duty's
deadline), each mobile member (流动党员) gets the theme — the plan's
`themes:` entry for the month (else the duty's title) and its note — 1:1, once,
(or the next working day) and is told that replying 学习 or 签到 counts as taking part remotely
(storage/theme_day.py records it). A day missed by the scheduler is caught
up later in the month, still once."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bot.schedule.pushes import Push
from storage.month import Month
from storage.outbox import Message, to_member
from storage.theme_day import mobile_members, month_theme, theme_day, theme_of
from storage.workdays import is_workday

NAME = "theme-day"


def due(session: Session, today: date) -> str | None:
    task = month_theme(session, Month.of(today))
    if task is None or today < theme_day(task) or not is_workday(today):
        return None
    return str(Month.of(today))


def messages(session: Session, today: date, period: str) -> list[Message]:
    month = Month.iso(period)
    task = month_theme(session, month)
    if task is None:
        return []
    note = f"\n{task.note}" if task.note else ""
    day = theme_day(task)
    return [to_member(m, NAME, period,
                      f"{m.name}同志，您好！{month.label}主题党日（{day.month}月{day.day}日）：**{theme_of(task)}**{note}\n"
                      "您在外地，可以远程参加：学习后回复“学习 内容”，或回复“签到”，即记为参加本月主题党日。")
            for m in mobile_members(session)]


PUSH = Push(NAME, due, messages)
