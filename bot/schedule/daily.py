"""The scheduler's jobs: decide what is due on a day and queue it. Each
job's run for a period is recorded (job_runs, unique), so a catch-up after
downtime runs once, never twice, and two schedulers cannot both run it."""
from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy.orm import Session

from bot.runtime import Runtime
from handlers import pushes
from storage.db import transaction
from storage.models import Event, JobRun, PushDate
from storage.insert_ignore import insert_ignore
from storage.outbox import enqueue
from storage.month import Month
from storage.workdays import first_workday, is_known_year, is_workday

log = logging.getLogger(__name__)


def claim_run(session: Session, job: str, period: str, now: datetime) -> bool:
    """True for the one caller that gets to run `job` for `period`."""
    return insert_ignore(session, JobRun, [{"job": job, "period": period, "received_at": now}]) == 1


def run_daily(runtime: Runtime, today: date | None = None) -> dict[str, int]:
    """Everything due today, queued. Only on working days — no pushes on
    weekends or holidays (SPEC: 基层减负) — except a sheet on the day staff
    chose for it (a make-up workday the holiday data does not know)."""
    now = runtime.clock.now()
    today = today or now.date()
    month, queued, workday = Month.of(today), {}, is_workday(today)
    with runtime.sessions() as session:
        if not workday and push_day(session, today) != today:
            return {}
    with transaction(runtime.sessions) as session:
        if not is_known_year(today.year) and claim_run(session, "holiday-data-missing", str(today.year), now):
            _event(session, now, "holiday-data", f"节假日数据不含 {today.year} 年，按周一至周五推送；"
                   "如需调整：python -m bot push-date --month YYYY-MM --on YYYY-MM-DD")
        first = push_day(session, today)
        if today >= first and claim_run(session, "monthly-sheet", str(month), now):
            if today > first:
                _event(session, now, "missed-run", f"{month} 提醒单应于 {first} 推送，补推于 {today}")
            queued["monthly-sheet"] = enqueue(session, pushes.monthly_sheets(session, month, today), now)
        if not workday:
            return queued
        if claim_run(session, "reminders", today.isoformat(), now):
            queued["reminders"] = enqueue(session, pushes.deadline_reminders(session, today), now)
            queued["overdue"] = enqueue(session, pushes.overdue_escalations(session, today), now)
            queued["delivery-failures"] = enqueue(session, pushes.failure_digest(session, today), now)
        if today.day >= 20 and claim_run(session, "checkin-reminder", str(month), now):
            queued["checkin-reminder"] = enqueue(session, pushes.mobile_reminders(session, today), now)
        if today.day >= 25 and claim_run(session, "mobile-list", str(month), now):
            queued["mobile-list"] = enqueue(session, pushes.mobile_lists(session, today), now)
    if queued:
        log.info("daily run %s queued %s", today, queued)
    return queued


def push_day(session: Session, today: date) -> date:
    """The day this month's sheet is due: staff's override, else the first working day."""
    override = session.get(PushDate, str(Month.of(today)))
    return override.day if override else first_workday(today.year, today.month)


def _event(session: Session, now: datetime, kind: str, detail: str) -> None:
    log.warning("%s: %s", kind, detail)
    session.add(Event(kind=kind, detail=detail, received_at=now))
