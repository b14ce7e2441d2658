"""APScheduler 3, once per deployment: every process may run this, but only
the holder of the database lease "scheduler" acts; when it dies, another
takes over within LEASE_TTL. Jobs are rebuilt at start from config and our
own tables (job_runs, deliveries) — no pickled job store to go stale.

- daily, at scheduler.monthly_push_time: bot.schedule.daily.run_daily (the monthly
  sheet on the first working day, reminders, escalations, mobile members);
- every few seconds: the delivery worker sends whatever is due;
- at start: a catch-up of today's daily run if its time has passed (the
  job_runs key makes it once, never twice)."""
from __future__ import annotations

import logging
import os
import uuid
from datetime import timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.outbound.worker import DeliveryWorker
from bot.schedule.daily import run_daily
from bot.wecom.media import fetch_pending
from bot.runtime import Runtime
from storage.db import transaction
from storage.leases import try_acquire
from storage.events import add_event

log = logging.getLogger(__name__)
LEASE = "scheduler"
LEASE_TTL = timedelta(seconds=30)
MISFIRE_GRACE = 6 * 3600  # a push missed by the process being down still goes, hours late


class Scheduler:
    def __init__(self, runtime: Runtime, worker: DeliveryWorker | None = None):
        self.runtime = runtime
        self.worker = worker or DeliveryWorker(runtime)
        self.holder = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.tz = runtime.clock.zone  # the one zone: triggers and records read the same clock
        hour, minute = runtime.config["scheduler.monthly_push_time"].split(":")
        self.push_hour, self.push_minute = int(hour), int(minute)

    def is_leader(self) -> bool:
        with transaction(self.runtime.sessions) as session:
            return try_acquire(session, LEASE, self.holder, self.runtime.clock.now(), LEASE_TTL)

    def daily(self) -> dict[str, int]:
        if not self.is_leader():
            return {}
        return run_daily(self.runtime)

    def deliver(self) -> int:
        """Send what is due, and fetch evidence files waiting for download."""
        if not self.is_leader():
            return 0
        fetch_pending(self.runtime, self.worker.client)
        return self.worker.drain(max_batches=50)

    def catch_up(self) -> dict[str, int]:
        """At start: today's run if its time has passed (once, by job_runs)."""
        now = self.runtime.clock.now()
        if (now.hour, now.minute) >= (self.push_hour, self.push_minute):
            return self.daily()
        return {}

    def build(self, blocking: bool):
        kind = BlockingScheduler if blocking else BackgroundScheduler
        scheduler = kind(timezone=self.tz, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE})
        scheduler.add_job(self.daily, CronTrigger(hour=self.push_hour, minute=self.push_minute,
                                                  timezone=self.tz), id="daily")
        scheduler.add_job(self.deliver, IntervalTrigger(seconds=5, timezone=self.tz), id="deliver")
        scheduler.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        return scheduler

    def _on_event(self, event) -> None:
        kind = "missed-run" if event.code == EVENT_JOB_MISSED else "job-error"
        log.warning("scheduler %s: job %s at %s", kind, event.job_id, event.scheduled_run_time)
        with transaction(self.runtime.sessions) as session:
            add_event(session, kind, f"定时任务 {event.job_id} 于 {event.scheduled_run_time} 未能按时运行",
                      self.runtime.clock.now())

    def run_forever(self) -> None:
        log.info("scheduler %s starting (push at %02d:%02d %s)", self.holder,
                 self.push_hour, self.push_minute, self.tz)
        self.catch_up()
        self.build(blocking=True).start()
