"""The daily run: every push of the table that is due today, queued once.
Pushes go out on working days only — no pushes on weekends or holidays
(SPEC: 基层减负) — except a sheet on the day staff chose for it. The same
function serves the scheduler and the manual `remind` command."""
from __future__ import annotations

import logging
from datetime import date

from bot.runtime import Runtime
from bot.schedule.pushes import PUSHES
from storage.db import transaction
from storage.events import add_event
from storage.jobs import claim_run
from storage.outbox import enqueue
from storage.workdays import is_known_year

log = logging.getLogger(__name__)


def run_daily(runtime: Runtime, today: date | None = None) -> dict[str, int]:
    """Queue what is due today; {push name: new messages} for the pushes that ran."""
    now = runtime.clock.now()
    today = today or now.date()
    queued: dict[str, int] = {}
    with transaction(runtime.sessions) as session:
        due = [(push, period) for push in PUSHES if (period := push.due(session, today))]
        if due and not is_known_year(today.year) and claim_run(session, "holiday-data-missing", str(today.year), now):
            add_event(session, "holiday-data", f"节假日数据不含 {today.year} 年，按周一至周五推送；"
                      "如需调整：python -m bot push-date --month YYYY-MM --on YYYY-MM-DD", now)
        for push, period in due:
            if not claim_run(session, push.name, period, now):
                continue
            why = push.late(session, today) if push.late else None
            if why:
                add_event(session, "missed-run", why, now)
            queued[push.name] = enqueue(session, push.messages(session, today, period), now)
    if queued:
        log.info("daily run %s queued %s", today, queued)
    return queued
