"""From the 20th (the first working day from then): each mobile member
(流动党员) not yet checked in this month is reminded, once, 1:1."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bot.schedule.pushes import Push
from bot.schedule.pushes.common import monthly_from
from storage.checkins import mobile_without_checkin
from storage.month import Month
from storage.outbox import Message, to_member

NAME = "checkin-reminder"


def messages(session: Session, today: date, period: str) -> list[Message]:
    month = Month.iso(period)
    return [to_member(m, NAME, period, f"{m.name}同志，您好！本月（{month.label}）您还没有报到。"
                                      "请回复“签到”，也可以发送您的位置。")
            for m in mobile_without_checkin(session, month.first_day, today) if m.wecom_userid]


PUSH = Push(NAME, monthly_from(20), messages)
