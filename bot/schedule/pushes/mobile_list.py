"""From the 25th: each branch secretary gets the mobile members (流动党员)
of the branch who have still not checked in this month, to call them."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bot.schedule.pushes import Push
from bot.schedule.pushes.common import monthly_from
from storage.checkins import mobile_without_checkin
from storage.models import REPORTING_ROLES
from storage.month import Month
from storage.members import reachable_members
from storage.outbox import Message, to_member

NAME = "mobile-list"
SECRETARY = REPORTING_ROLES[0]


def messages(session: Session, today: date, period: str) -> list[Message]:
    month, by_branch = Month.iso(period), {}
    for member in mobile_without_checkin(session, month.first_day, today):
        by_branch.setdefault(member.org_id, []).append(member)
    out = []
    for branch_id, members in by_branch.items():
        names = "、".join(f"{m.name}（{m.inflow_city or '流入地未填'}）" for m in members)
        body = f"**流动党员报到情况**\n{month.label}尚未报到的流动党员：{names}。请主动联系。"
        out += [to_member(s, NAME, period, body) for s in reachable_members(session, branch_id, (SECRETARY,))]
    return out


PUSH = Push(NAME, monthly_from(25), messages)
