"""The month's 主题党日 for mobile members (流动党员): the theme comes from
the plan (the recurring task whose duty is 主题党日: the month's `themes:`
entry, else its title; and its note), its day is the plan's `day:` (else the
task's deadline); from that day on, a mobile member's 学习 or 签到 in that
month counts as taking part remotely — once per member and theme, whoever
else typed what."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.insert_ignore import insert_ignore
from storage.models import BRANCH, Member, Organization, RemoteParticipation, Task
from storage.month import Month
from storage.people import THEME_DAY

STUDY, CHECKIN = "study", "checkin"


def month_theme(session: Session, month: Month) -> Task | None:
    """The plan's 主题党日 duty of this month, if any (the first by number)."""
    return session.scalar(select(Task).where(Task.month == str(month), Task.recurring,
                                             Task.duty == THEME_DAY).order_by(Task.number).limit(1))


def theme_day(task: Task) -> date:
    """The day of the month's 主题党日: the plan's `day:` for it, else the duty's deadline."""
    return task.held_on or task.deadline


def theme_of(task: Task) -> str:
    """The month's 主题党日 theme: the plan's `themes:` entry, else the duty's title."""
    return task.theme or task.title


def mobile_members(session: Session) -> list[Member]:
    """Active mobile members of active branches who can be reached on WeCom."""
    return list(session.scalars(select(Member).join(Organization, Member.org_id == Organization.id).where(
        Member.is_mobile, Member.active, Member.wecom_userid.is_not(None), Organization.type == BRANCH,
        Organization.active).order_by(Member.org_id, Member.id)))


def take_part_remotely(session: Session, member: Member, via: str, now: datetime) -> Task | None:
    """A mobile member's 学习 / 签到: the theme it counts for, when it is
    the first for this month's theme on or after its day; None otherwise."""
    if not member.is_mobile:
        return None
    task = month_theme(session, Month.of(now.date()))
    if task is None or now.date() < theme_day(task):
        return None
    new = insert_ignore(session, RemoteParticipation, [{"member_id": member.id, "task_id": task.id,
                                                        "day": now.date(), "via": via, "received_at": now}])
    return task if new else None
