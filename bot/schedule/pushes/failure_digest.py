"""Each working morning the org department's staff get every delivery that
failed since the last digest — weekends and holidays included, since a
failure then waits for the next working day's digest: nothing is dropped
silently."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bot.schedule.pushes import Push
from bot.schedule.pushes.common import every_workday
from handlers.render import day
from storage.jobs import previous_run
from storage.members import org_department_staff
from storage.outbox import Message, failed, to_member

NAME = "delivery-failures"
SHOWN = 30


def messages(session: Session, today: date, period: str) -> list[Message]:
    failures = failed(session, since=previous_run(session, NAME, period), excluding=NAME)
    if not failures:
        return []
    lines = [f"**发送失败 {len(failures)} 条（{day(today)}）**"]
    lines += [f"- {d.target} {d.purpose} {d.period}：{d.last_error}" for d in failures[:SHOWN]]
    if len(failures) > SHOWN:
        lines.append(f"……共 {len(failures)} 条，详见管理页面或 python -m bot deliveries --failed")
    return [to_member(m, NAME, period, "\n".join(lines)) for m in org_department_staff(session)]


PUSH = Push(NAME, every_workday, messages)
