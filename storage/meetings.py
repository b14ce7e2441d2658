"""Meetings (三会一课, 主题党日, 组织生活会 …): what a branch logged, when it
arrived, and — where the kind has a roll — who was present, absent or
excused. Also the one place that finds the recurring task a meeting (or the
month's check-ins) fulfils, so a branch reports once."""
from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from storage.insert_ignore import insert_ignore
from storage.models import (CHECKIN_DUTY, COMMITTEE_KINDS, REPORTING_ROLES, WHOLE_BRANCH_KINDS, Attendance,
                            CheckIn, Meeting, Member, Organization, Report, Task)
from storage.month import Month
from storage.orgs import targets


# A meeting logged more than this many days after it was held is back-filled
# (补记录) — and so is the duty it completed. The one rule: the chat reply to
# 会议, the ledger, 任务/进度 and the workbench all use it.
BACKFILL_DAYS = 3


class LateMeeting(NamedTuple):
    """The back-filled meeting that is a branch's current report of a duty."""
    held_on: date
    received_at: datetime

    @property
    def lag_days(self) -> int:
        return (self.received_at.date() - self.held_on).days


def is_backfilled(held_on: date, received_at: datetime) -> bool:
    return (received_at.date() - held_on).days > BACKFILL_DAYS


def backfilled_duties(session: Session, task_ids: list[int],
                      branch_ids: list[int] | None = None) -> dict[tuple[int, int], LateMeeting]:
    """(task id, branch id) → the meeting, where a branch's current report of
    a duty task is a meeting logged more than BACKFILL_DAYS after it was
    held: that report is 补记录 too, wherever it is shown. Only reports made
    by a meeting are read (a few per branch and month), so this costs little
    beside the views' own queries."""
    if not task_ids:
        return {}
    query = _MEETING_REPORTS
    params: dict = {"task_ids": task_ids}
    if branch_ids is not None:
        query, params["branch_ids"] = _MEETING_REPORTS_OF, branch_ids
    return {(task_id, branch_id): LateMeeting(held_on, received_at)
            for task_id, branch_id, held_on, received_at in session.connection().execute(query, params)
            if is_backfilled(held_on, received_at)}


_MEETING_REPORTS = (select(Report.task_id, Report.branch_id, Meeting.held_on, Meeting.received_at)
                    .join(Meeting, Report.meeting_id == Meeting.id)
                    .where(Report.task_id.in_(bindparam("task_ids", expanding=True)),
                           Report.superseded_by.is_(None)))
_MEETING_REPORTS_OF = _MEETING_REPORTS.where(Report.branch_id.in_(bindparam("branch_ids", expanding=True)))


class Person(NamedTuple):
    """A member as a roll or a name list needs them."""
    id: int
    name: str
    phone: str | None
    role: str
    wecom_userid: str | None
    is_mobile: bool


def people_of(session: Session, org_id: int) -> list[Person]:
    """The active members of one organisation (branch, or a committee's staff)."""
    return [Person(*r) for r in session.execute(
        select(Member.id, Member.name, Member.phone, Member.role, Member.wecom_userid, Member.is_mobile)
        .where(Member.org_id == org_id, Member.active).order_by(Member.id))]


def has_roll(kind: str) -> bool:
    return kind in WHOLE_BRANCH_KINDS or kind in COMMITTEE_KINDS


def roll_of(people: list[Person], kind: str, is_branch: bool = True) -> list[Person] | None:
    """Who is expected at a meeting of `kind` (SPEC "Details fixed…"): every
    active member (党员大会, 主题党日, 组织生活会, 民主评议), the committee
    (支委会: 书记, 副书记, 支委); None for kinds without a roll. A committee's
    own meetings have its staff as the roll."""
    if kind in WHOLE_BRANCH_KINDS or (not is_branch and kind in COMMITTEE_KINDS):
        return list(people)
    if kind in COMMITTEE_KINDS:
        return [p for p in people if p.role in REPORTING_ROLES]
    return None


def record_meeting(session: Session, *, branch_id: int, kind: str, held_on: date, attended: int | None,
                   expected: int | None, note: str, member_id: int, now: datetime,
                   attendance: dict[int, str] | None = None) -> Meeting:
    """A meeting, and its roll (member id → present | absent | excused) if given."""
    meeting = Meeting(branch_id=branch_id, kind=kind, held_on=held_on, attended=attended, expected=expected,
                      note=note, member_id=member_id, received_at=now)
    session.add(meeting)
    session.flush()
    if attendance:
        insert_ignore(session, Attendance, [{"meeting_id": meeting.id, "member_id": m, "status": s}
                                            for m, s in attendance.items()])
    return meeting


def duty_task(session: Session, branch: Organization, duty: str, day: date) -> Task | None:
    """The recurring task for `branch` that `duty` (a meeting kind, or
    CHECKIN_DUTY) held on `day` fulfils: the month's (支委会), or the
    quarter's, which sits in the quarter's first month (党员大会)."""
    month = Month.of(day)
    candidates = session.scalars(select(Task).where(
        Task.duty == duty, Task.recurring, Task.month <= str(month),
        Task.month >= str(month.quarter_first)).order_by(Task.month.desc(), Task.number)).all()
    return next((t for t in candidates if targets(t, branch) and Month.of(t.deadline) >= month), None)


def mobile_not_checked_in(session: Session, branch_id: int, month: Month) -> list[Person]:
    """The branch's active mobile members with no check-in (own or 代签) in `month`."""
    checked = select(CheckIn.member_id).where(CheckIn.day >= month.first_day, CheckIn.day < month.end)
    return [Person(*r) for r in session.execute(
        select(Member.id, Member.name, Member.phone, Member.role, Member.wecom_userid, Member.is_mobile)
        .where(Member.org_id == branch_id, Member.active, Member.is_mobile, Member.id.not_in(checked))
        .order_by(Member.id))]


def has_mobile_members(session: Session, branch_id: int) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Member).where(
        Member.org_id == branch_id, Member.active, Member.is_mobile)))


__all__ = ["BACKFILL_DAYS", "LateMeeting", "is_backfilled", "backfilled_duties", "CHECKIN_DUTY", "Person", "people_of", "roll_of", "has_roll", "record_meeting", "duty_task",
           "mobile_not_checked_in", "has_mobile_members"]
