"""APScheduler 3, once per deployment: every process may run this, but only
the holder of the database lease "scheduler" acts. A heartbeat renews the
lease every third of `scheduler.lease_seconds` (also during a long push);
when the leader dies — on this host or another — a follower's heartbeat
takes the lease once it has expired, and the new leader catches up today's
run and sends at once. Jobs are rebuilt at start from config and our own
tables (job_runs, deliveries) — no pickled job store to go stale.

- daily, at scheduler.monthly_push_time: bot.schedule.daily.run_daily (the monthly
  sheet on the first working day, reminders, escalations, mobile members);
- every few seconds: the delivery worker sends whatever is due;
- at start: a catch-up of today's daily run if its time has passed (the
  job_runs key makes it once, never twice);
- with `aibot.mode: long_connection`: the smart robot's long connection
  (bot/wecom/aibot_link.py), held by the leader only — it is the leader's
  delivery worker that pushes over it.

A graceful stop (SIGTERM from `serve` or systemd, Ctrl-C) gives the leases
up at once, so the next leader — on another host too — takes over without
waiting for them to expire."""
from __future__ import annotations

import logging
import signal
import threading
import uuid
from datetime import datetime, timedelta

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
from storage.leases import holder_name, release, try_acquire
from storage.events import add_event

log = logging.getLogger(__name__)
LEASE = "scheduler"
MISFIRE_GRACE = 6 * 3600  # a push missed by the process being down still goes, hours late


class Scheduler:
    def __init__(self, runtime: Runtime, worker: DeliveryWorker | None = None):
        self.runtime = runtime
        self.worker = worker or DeliveryWorker(runtime)
        self.holder = holder_name(uuid.uuid4().hex[:6])
        self.lease_ttl = timedelta(seconds=runtime.config["scheduler.lease_seconds"])
        self.leading, self.delivering = False, False
        self.stopped, self.transition = threading.Event(), threading.Lock()
        self.jobs = None  # the APScheduler instance, once built
        self.tz = runtime.clock.zone  # the one zone: triggers and records read the same clock
        hour, minute = runtime.config["scheduler.monthly_push_time"].split(":")
        self.push_hour, self.push_minute = int(hour), int(minute)
        self.link = None
        if runtime.config["aibot.mode"] == "long_connection":
            from bot.wecom.aibot_link import AibotLink
            self.link = AibotLink(runtime, may_hold=lambda: self.leading and not self.stopped.is_set())

    def is_leader(self) -> bool:
        """Take or renew the lease; whether this process leads now. A
        follower that becomes the leader while the jobs run (the old leader
        died) catches up today's run and sends what is due at once, without
        waiting for the next tick. A stopping scheduler does not lead (its
        lease was given up; a job still running must not take it back)."""
        if self.stopped.is_set():
            return False
        with transaction(self.runtime.sessions) as session:
            leading = try_acquire(session, LEASE, self.holder, self.runtime.clock.now(), self.lease_ttl)
        with self.transition:
            took, lost, self.leading = leading and not self.leading, self.leading and not leading, leading
        if lost:
            log.warning("scheduler %s lost the lead", self.holder)
        if took:  # another leader may have sent meanwhile: pace from the database's count
            self.worker.reseed()
        if took and self.jobs is not None and self.jobs.running:
            log.warning("scheduler %s took the lead", self.holder)
            self.jobs.add_job(self.catch_up, id="catch-up", replace_existing=True)
            if not self.delivering:  # (when it is the delivery job that took the lead, it goes on sending)
                self.jobs.modify_job("deliver", next_run_time=datetime.now(self.tz))
        elif took:
            log.info("scheduler %s leads", self.holder)
        return leading

    def _beat(self) -> None:
        """Renew the lease every third of its time, whatever the jobs are
        doing (a long push must not let it lapse); take it when it lapsed."""
        interval = self.lease_ttl.total_seconds() / 3
        while not self.stopped.wait(interval):
            try:
                self.is_leader()
            except Exception:  # the database away for a moment: try again next beat
                log.exception("scheduler heartbeat failed")

    def daily(self) -> dict[str, int]:
        if not self.is_leader():
            return {}
        return run_daily(self.runtime)

    def deliver(self) -> int:
        """Send what is due, and fetch evidence files waiting for download."""
        self.delivering = True
        try:
            if not self.is_leader():
                return 0
            fetch_pending(self.runtime, self.worker.client)
            return self.worker.drain(max_batches=50)
        finally:
            self.delivering = False

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
        self.jobs = scheduler
        return scheduler

    def _on_event(self, event) -> None:
        kind = "missed-run" if event.code == EVENT_JOB_MISSED else "job-error"
        log.warning("scheduler %s: job %s at %s", kind, event.job_id, event.scheduled_run_time)
        with transaction(self.runtime.sessions) as session:
            add_event(session, kind, f"定时任务 {event.job_id} 于 {event.scheduled_run_time} 未能按时运行",
                      self.runtime.clock.now())

    def run_forever(self) -> None:
        log.info("scheduler %s starting (push at %02d:%02d %s, lease %ss)", self.holder,
                 self.push_hour, self.push_minute, self.tz, int(self.lease_ttl.total_seconds()))
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _terminate)  # (SIGINT already raises KeyboardInterrupt)
        try:
            self.catch_up()
            jobs = self.build(blocking=True)
            beat = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)
            beat.start()
            if self.link is not None:
                self.link.start()
            jobs.start()
        except (KeyboardInterrupt, SystemExit):
            log.info("scheduler %s stopping", self.holder)
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        """Stop, and give up the scheduler's lease and the long connection's
        at once: the next leader need not wait for them to expire."""
        self.stopped.set()
        if self.jobs is not None and self.jobs.running:
            self.jobs.shutdown(wait=False)
        if self.link is not None:
            self.link.stop()
        with self.transition:
            leading, self.leading = self.leading, False
        if leading:
            try:
                with transaction(self.runtime.sessions) as session:
                    release(session, LEASE, self.holder, self.runtime.clock.now())
                log.info("scheduler %s gave up the lead", self.holder)
            except Exception:
                log.exception("scheduler %s could not release its lease", self.holder)


def _terminate(signum, frame) -> None:
    """SIGTERM: unwind like Ctrl-C, through run_forever's shutdown."""
    raise SystemExit(0)
