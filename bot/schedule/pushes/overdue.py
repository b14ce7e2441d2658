"""The first working day after a deadline: the late branch is told in its
group, and its committee's staff get one list of the branches late on that
task."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bot.schedule.pushes import Push
from bot.schedule.pushes.common import every_workday
from handlers.render import day, task_label, task_ref
from storage.month import Month
from storage.members import reachable_members
from storage.orgs import active_branches
from storage.outbox import Message, to_branch, to_member
from storage.tasks import TaskBook

NAME = "overdue"


def messages(session: Session, today: date, period: str) -> list[Message]:
    branches = active_branches(session)
    book = TaskBook(session, Month.of(today), branches)
    out, late_by = [], {}
    for branch in branches:
        for bt in book.this_month(branch) + book.owed(branch) + book.rectification(branch):
            if not bt.overdue(today):
                continue
            body = (f"**逾期提醒**\n{branch.name}：{task_label(bt.task)}「{bt.task.title}」"
                    f"已于{day(bt.task.deadline)}截止，尚未上报。请尽快完成并回复：完成 {task_ref(bt.task, today)} 说明")
            out.append(to_branch(branch, NAME, f"task-{bt.task.id}", body))
            late_by.setdefault((branch.parent_id, bt.task.id), (bt.task, []))[1].append(branch)
    for (committee_id, task_id), (task, late) in late_by.items():
        body = "\n".join([f"**逾期未报：{task_label(task)}「{task.title}」（截止{day(task.deadline)}）**"]
                         + [f"- {b.name}（{b.code}）" for b in late])
        out += [to_member(staff, NAME, f"task-{task_id}", body) for staff in reachable_members(session, committee_id)]
    return out


PUSH = Push(NAME, every_workday, messages)
