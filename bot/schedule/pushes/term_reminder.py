"""换届: six and three months before an organisation's term ends, its
group (a branch; a committee's own staff) and the staff above it hear that the election is
due — each reminder once per term end (the outbox key names the end, so
a new term imported later is reminded afresh), on working days."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bot.schedule.pushes import Push
from bot.schedule.pushes.common import every_workday
from handlers.render import day
from storage.members import reachable_members
from storage.models import BRANCH
from storage.outbox import Message, to_branch, to_member
from storage.terms import due_reminders

NAME = "term-reminder"


def messages(session: Session, today: date, period: str) -> list[Message]:
    out = []
    for org, months in due_reminders(session, today):
        key = f"{org.code}-{org.term_end}-{months}m"
        text = (f"**换届提醒**\n{org.name}（{org.code}）本届任期将于{day(org.term_end, today)}届满"
                f"（还有约{months}个月），请提前做好换届准备，按期换届。")
        if org.type == BRANCH:
            out.append(to_branch(org, NAME, key, text))
        else:  # a committee's own staff
            out += [to_member(m, NAME, key, text) for m in reachable_members(session, org.id)]
        out += [to_member(m, NAME, key, text) for m in reachable_members(session, org.parent_id)]
    return out


PUSH = Push(NAME, every_workday, messages)
