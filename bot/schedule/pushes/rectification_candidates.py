"""Monthly, on the first working day: the org department's staff get the
branches the records suggest for 软弱涣散 (storage/candidates.py), with the
reasons, to decide on — nothing is flagged automatically (整顿 is staff's)."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bot.schedule.pushes import Push
from bot.schedule.pushes.common import monthly_from
from storage.candidates import NO_NEW, OVERDUE, QUOTA, UNREACHED, VACANT, Candidate, candidates
from storage.members import org_department_staff
from storage.month import Month
from storage.orgs import active_branches
from storage.outbox import Message, to_member

NAME = "rectification-candidates"


def reasons(c: Candidate) -> str:
    parts = []
    if OVERDUE in c.reasons:
        parts.append(f"{'、'.join(m.short for m in c.reasons[OVERDUE])}有逾期任务")
    if QUOTA in c.reasons:
        parts.append(f"{'、'.join(m.short for m in c.reasons[QUOTA])}三会一课未达要求")
    if VACANT in c.reasons:
        parts.append("书记空缺")
    if NO_NEW in c.reasons:
        last = c.reasons[NO_NEW]
        parts.append(f"3年以上未发展党员（最近 {last}）" if last else "3年以上未发展党员（无入党日期记录）")
    if UNREACHED in c.reasons:
        names = c.reasons[UNREACHED]
        parts.append(f"流动党员3个月未联系：{'、'.join(names[:5])}{'等' if len(names) > 5 else ''}（{len(names)}人）")
    return "；".join(parts)


def render(found: list[Candidate], month: Month) -> str:
    lines = [f"**软弱涣散党组织排查建议（{month.label}）**",
             f"根据近三个月记录，以下 {len(found)} 个支部值得关注（仅供研判，是否列入整顿由组织部决定）："]
    lines += [f"- {c.branch.name}（{c.branch.code}）：{reasons(c)}" for c in found]
    lines.append("列入整顿：整顿 支部编码 原因")
    return "\n".join(lines)  # the channel splits a long one


def messages(session: Session, today: date, period: str) -> list[Message]:
    month = Month.iso(period)
    found = candidates(session, active_branches(session), month, today)
    if not found:
        return []
    body = render(found, month)
    return [to_member(m, NAME, period, body) for m in org_department_staff(session)]


PUSH = Push(NAME, monthly_from(1), messages)
