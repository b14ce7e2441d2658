"""The 重点工作提醒单: on the month's push day (its first working day, or the
day staff chose), every branch group gets its sheet; after downtime, the
next run catches up (and staff see that it was late)."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bot.schedule.pushes import Push
from handlers.render.sheet import render_sheet
from storage.jobs import push_day
from storage.month import Month
from storage.orgs import active_branches
from storage.outbox import Message, to_branch
from storage.tasks import TaskBook
from storage.workdays import is_workday

NAME = "monthly-sheet"


def due(session: Session, today: date) -> str | None:
    first = push_day(session, Month.of(today))
    if today < first or (not is_workday(today) and today != first):
        return None  # no pushes on weekends or holidays, but for a day staff chose
    return str(Month.of(today))


def late(session: Session, today: date) -> str | None:
    month = Month.of(today)
    first = push_day(session, month)
    return f"{month} 提醒单应于 {first} 推送，补推于 {today}" if today > first else None


def messages(session: Session, today: date, period: str, codes: list[str] | None = None) -> list[Message]:
    month = Month.iso(period)
    branches = active_branches(session, codes)
    book = TaskBook(session, month, branches)
    return [to_branch(b, NAME, period, render_sheet(b.name, month, book.this_month(b), book.owed(b), today,
                                                   rectification=book.rectification(b)))
            for b in branches]


PUSH = Push(NAME, due, messages, late)
