"""Before a deadline: 3 days ahead, then on the last working day before it,
each branch that has not reported hears about it in its group."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from bot.schedule.pushes import Push
from bot.schedule.pushes.common import every_workday
from handlers.render import day, task_label, task_ref
from storage.month import Month
from storage.orgs import active_branches
from storage.outbox import Message, to_branch
from storage.tasks import REPORTED, TaskBook
from storage.workdays import next_workday

NAME = "deadline-reminder"
DAYS_BEFORE = (3, 1)


def reminders_due(deadline: date, today: date) -> list[int]:
    """Which of the 3-day / 1-day reminders are due today. The 1-day one
    goes on the last working day before the deadline (a Monday deadline is
    reminded on Friday: no pushes at weekends)."""
    days_left = (deadline - today).days
    if days_left <= 0:
        return []
    if next_workday(today) >= deadline:
        return [1]
    return [3] if days_left <= 3 else []


def messages(session: Session, today: date, period: str) -> list[Message]:
    branches = active_branches(session)
    horizon = max(today + timedelta(days=max(DAYS_BEFORE)), next_workday(today))
    # Near a month's end the reminders reach into the next month too.
    books = [TaskBook(session, m, branches) for m in sorted({Month.of(today), Month.of(horizon)})]
    out = []
    for branch in branches:
        candidates = {bt.task.id: bt for book in books
                      for bt in book.this_month(branch) + book.owed(branch) + book.rectification(branch)}
        for bt in candidates.values():
            due = reminders_due(bt.task.deadline, today)
            if bt.state == REPORTED or not due:
                continue
            body = (f"**截止提醒**\n{branch.name}：{task_label(bt.task)}「{bt.task.title}」"
                    f"将于{day(bt.task.deadline)}截止，尚未上报。\n完成后请回复：完成 {task_ref(bt.task, today)} 说明")
            out.append(to_branch(branch, f"remind-{min(due)}d", f"task-{bt.task.id}", body))
    return out


PUSH = Push(NAME, every_workday, messages)
