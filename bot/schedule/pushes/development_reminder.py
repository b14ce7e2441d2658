"""发展党员's timed steps: the talk within a month of an application, 发展对象
once a year as 积极分子 is complete, 转正 when the probation year ends.
Each reminder goes once (the outbox key names the person, the step and
its day) to the branch's secretary (the deputy where there is none) and
its committee's staff, on working days, from a week before the step is
due (发展对象: from the day the year is complete)."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bot.schedule.pushes import Push
from bot.schedule.pushes.common import every_workday
from handlers.commands.cards import SECRETARY_ROLES
from handlers.render import day
from storage.development import CANDIDATE_DUE, CONVERSION_DUE, TALK_DUE, DueStep, due_steps, records_of
from storage.members import reachable_members
from storage.models import Organization
from storage.orgs import active_by_id
from storage.outbox import Message, to_member

NAME = "development-reminder"
WHAT = {TALK_DUE: ("入党申请人谈话", "请在{due}前安排党组织派人与其谈话（收到入党申请书后一个月内）。"
                   "谈话后请回复：发展 {name} 谈话 日期"),
        CANDIDATE_DUE: ("可列为发展对象", "确定为入党积极分子已满一年（{due}），经培养考察合格的，可列为发展对象。"
                        "确定后请回复：发展 {name} 发展对象 日期"),
        CONVERSION_DUE: ("预备期满转正", "预备期将于{due}满一年，请按期讨论其转正。"
                         "转正后请回复：发展 {name} 转正 日期")}


def body(step: DueStep, branch: Organization) -> str:
    title, text = WHAT[step.step]
    return (f"**发展党员提醒：{title}**\n{branch.name} {step.record.name}："
            + text.format(due=day(step.due), name=step.record.name))


def recipients(session: Session, branch: Organization) -> list:
    """The secretary (the deputy where there is none) and the committee's staff."""
    lead = next((found for roles in SECRETARY_ROLES if (found := reachable_members(session, branch.id, roles))), [])
    return lead + reachable_members(session, branch.parent_id)


def messages(session: Session, today: date, period: str) -> list[Message]:
    steps = due_steps(records_of(session), today)
    branches = active_by_id(session, {s.record.branch_id for s in steps})
    out, reached = [], {}  # a branch's recipients, read once however many of its steps are due
    for step in steps:
        branch = branches.get(step.record.branch_id)
        if branch is None:
            continue
        if branch.id not in reached:
            reached[branch.id] = recipients(session, branch)
        key = f"{step.record.id}-{step.step}-{step.due}"  # a corrected date is a new reminder
        out += [to_member(m, NAME, key, body(step, branch)) for m in reached[branch.id]]
    return out


PUSH = Push(NAME, every_workday, messages)
