"""Scheduled runs and push days. A job's run for a period is a row with a
unique (job, period) key, so a catch-up after downtime runs once, never
twice, and two schedulers cannot both run it."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.insert_ignore import insert_ignore
from storage.models import JobRun, PushDate
from storage.month import Month
from storage.workdays import first_workday


def claim_run(session: Session, job: str, period: str, now: datetime) -> bool:
    """True for the one caller that gets to run `job` for `period`."""
    return insert_ignore(session, JobRun, [{"job": job, "period": period, "received_at": now}]) == 1


def previous_run(session: Session, job: str, period: str) -> datetime | None:
    """When `job` last ran for a period other than `period`."""
    return session.scalar(select(func.max(JobRun.received_at)).where(JobRun.job == job, JobRun.period != period))


def push_day(session: Session, month: Month) -> date:
    """The day a month's sheet is due: staff's override, else its first working day."""
    override = session.get(PushDate, str(month))
    return override.day if override else first_workday(month.year, month.number)


def set_push_day(session: Session, month: Month, day: date | None, now: datetime) -> None:
    """Staff's push day for a month (None: back to the first working day)."""
    row = session.get(PushDate, str(month))
    if day is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(PushDate(month=str(month), day=day, received_at=now))
    else:
        row.day = day
