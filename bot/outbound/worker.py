"""The delivery worker: claims due rows of the outbox, sends them, records
each outcome on the row (and a permanent failure on its target too).

Rows for different addresses are sent concurrently over pooled connections;
rows for one address go in order, and a group robot key gets at most 20
messages a minute — a row over the limit is put back with a later due time
while the others go on, so one busy group never stalls the push."""
from __future__ import annotations

import logging
import os
import random
import time
import uuid
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from bot.runtime import Runtime
from bot.wecom.client import SendError, WeComClient
from storage.db import transaction
from storage.models import Delivery, Event, Member, Organization
from storage.outbox import FAILED, PENDING, SENT, claim, record_outcome, release_orphans

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
ROBOT_PER_MINUTE = 20


class RobotLimiter:
    """20 messages / minute / robot key, on the runtime clock (per process;
    the stand-in and WeCom still answer 45009 if processes together exceed it,
    and that row is simply retried a minute later)."""

    def __init__(self) -> None:
        self.sent: dict[str, deque] = defaultdict(deque)

    def wait(self, key: str, now: datetime) -> timedelta | None:
        """None if a message may go now (and counts it), else how long to wait."""
        window = self.sent[key]
        while window and now - window[0] >= timedelta(minutes=1):
            window.popleft()
        if len(window) >= ROBOT_PER_MINUTE:
            return timedelta(minutes=1) - (now - window[0]) + timedelta(seconds=1)
        window.append(now)
        return None


class DeliveryWorker:
    def __init__(self, runtime: Runtime, client: WeComClient | None = None,
                 threads: int = 16, batch: int = 200):
        self.runtime, self.client = runtime, client or WeComClient(runtime)
        self.worker_id = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="deliver")
        self.batch, self.limiter, self.recovered = batch, RobotLimiter(), False

    def quiet(self, now: datetime) -> bool:
        """No pushes at night (scheduler.quiet_start … quiet_end)."""
        start, end = (self.runtime.config[k] for k in ("scheduler.quiet_start", "scheduler.quiet_end"))
        at = now.strftime("%H:%M")
        return (start <= at or at < end) if start > end else (start <= at < end)

    def run_once(self) -> int:
        """Send one batch of due rows; how many rows were handled."""
        now = self.runtime.clock.now()
        if self.quiet(now):
            return 0
        rows = self._claim(now)
        if not rows:
            return 0
        by_address: dict[str, list[Delivery]] = defaultdict(list)
        for row in rows:
            by_address[f"{row.channel}:{row.address}"].append(row)
        list(self.pool.map(self._send_group, by_address.values()))
        return len(rows)

    def _claim(self, now: datetime) -> list[Delivery]:
        for attempt in range(3):
            try:
                with transaction(self.runtime.sessions) as session:
                    if not self.recovered:
                        release_orphans(session, now)
                        self.recovered = True
                    return claim(session, self.worker_id, now, self.batch)
            except OperationalError:  # a deadlock with another worker (MySQL): retry
                log.info("claim conflicted with another worker; retrying")
                time.sleep(0.05 * (attempt + 1))
        return []

    def drain(self, max_batches: int = 1_000_000) -> int:
        """Send until nothing is due now."""
        total = 0
        for _ in range(max_batches):
            handled = self.run_once()
            if not handled:
                break
            total += handled
        return total

    def _send_group(self, rows: list[Delivery]) -> None:
        """Send one address's rows in order, recording each outcome at once:
        after a crash only the message on the wire can go out twice."""
        for row in rows:
            outcome = self._send_one(row)
            with transaction(self.runtime.sessions) as session:
                record_outcome(session, outcome)
                if outcome["state"] == FAILED:
                    _flag_failures(session, [(row, outcome["last_error"])], self.runtime.clock.now())

    def _send_one(self, row: Delivery) -> dict:
        now = self.runtime.clock.now()
        if not row.address:
            return self._failure(row, SendError("未配置群机器人 key 或应用群聊 chatid", permanent=True), now)
        if row.channel == "robot":
            wait = self.limiter.wait(row.address, now)
            if wait is not None:
                return {"id": row.id, "state": PENDING, "due_at": now + wait}
        try:
            self.client.send(row.channel, row.address, row.body, row.msg_format)
        except SendError as e:
            return self._failure(row, e, now)
        except Exception as e:  # a bug must not lose the row: keep it, log it
            log.exception("delivery %s crashed", row.id)
            return self._failure(row, SendError(f"内部错误 {type(e).__name__}", permanent=False), now)
        return {"id": row.id, "state": SENT, "sent_at": now, "attempts": row.attempts + 1,
                "last_error": None}

    def _failure(self, row: Delivery, error: SendError, now: datetime) -> dict:
        attempts = row.attempts + 1
        if error.permanent or attempts >= MAX_ATTEMPTS:
            reason = str(error) if error.permanent else f"重试 {attempts} 次仍失败：{error}"
            log.warning("delivery %s to %s failed: %s", row.id, row.target, reason)
            return {"id": row.id, "state": FAILED, "attempts": attempts, "last_error": reason}
        delay = error.retry_after or min(30 * 2 ** attempts, 3600)
        return {"id": row.id, "state": PENDING, "attempts": attempts, "last_error": str(error),
                "due_at": now + timedelta(seconds=delay * random.uniform(1.0, 1.2))}



def _flag_failures(session, failures: list[tuple[Delivery, str]], now: datetime) -> None:
    """A failed delivery shows on its target and as an event for staff."""
    for row, reason in failures:
        model, column = (Member, Member.wecom_userid) if row.channel == "user" else \
            (Organization, Organization.code)
        session.execute(update(model).where(column == row.target).values(last_error=reason))
        session.add(Event(kind="delivery-failed", received_at=now,
                          detail=f"{row.target} {row.purpose} {row.period}：{reason}"))
