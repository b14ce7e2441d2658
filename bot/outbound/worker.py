"""The delivery worker: claims due rows of the outbox, picks each row's
channel from its audience's addresses, sends, and records each outcome on
the row and on the address (a permanent failure also as an event).

Rows for different addresses are sent concurrently over pooled connections;
rows for one address go in order. A channel that must pace itself (a group
robot: 20 a minute) puts a row back with a later due time while the others
go on, so one busy group never stalls the push."""
from __future__ import annotations

import logging
import random
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy.exc import OperationalError

from bot.outbound.channel import Channel, SendError
from bot.outbound.channels import CHANNELS
from bot.runtime import Runtime
from bot.wecom.client import WeComClient
from storage.addresses import MEMBER, Route, addresses_of, owner_parts, record_outcome as record_address
from storage.db import transaction
from storage.events import add_event
from storage.leases import holder_name
from storage.models import Delivery
from storage.outbox import FAILED, PENDING, SENT, claim, record_outcome, release_orphans

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
NO_ADDRESS = "未配置群机器人 key 或应用群聊 chatid"


PREFERENCE = {channel.kind: i for i, channel in enumerate(CHANNELS)}


def choose_route(owner: str, addresses: list[Route]) -> Route | None:
    """The address a message goes to: the owner's address of the most
    preferred channel; a member without one is reached at their WeCom id."""
    usable = [a for a in addresses if a.kind in PREFERENCE]
    if usable:
        return min(usable, key=lambda a: PREFERENCE[a.kind])
    kind, key = owner_parts(owner)
    return Route(owner, "wecom_user", key) if kind == MEMBER and key else None


class DeliveryWorker:
    def __init__(self, runtime: Runtime, client: WeComClient | None = None,
                 threads: int = 16, batch: int = 200):
        self.runtime, self.client = runtime, client or WeComClient(runtime)
        self.channels: dict[str, Channel] = {c.kind: c(self.client, runtime.clock.now) for c in CHANNELS}
        self.worker_id = holder_name(uuid.uuid4().hex[:6])
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="deliver")
        self.batch, self.recovered = batch, False
        self.stuck_after = timedelta(seconds=runtime.config["scheduler.lease_seconds"])

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
        claimed = self._claim(now)
        if not claimed:
            return 0
        rows, addresses = claimed
        by_address: dict[tuple, list[tuple[Delivery, Route | None]]] = defaultdict(list)
        for row in rows:
            route = choose_route(row.target, addresses.get(row.target, []))
            by_address[(route.kind, route.value) if route else ("none", row.id)].append((row, route))
        list(self.pool.map(self._send_group, by_address.values()))
        return len(rows)

    def _claim(self, now: datetime) -> tuple[list[Delivery], dict[str, list[Route]]] | None:
        for attempt in range(3):
            try:
                with transaction(self.runtime.sessions) as session:
                    if not self.recovered:
                        release_orphans(session, now)
                        self.recovered = True
                    rows = claim(session, self.worker_id, now, self.batch, self.stuck_after)
                    return (rows, addresses_of(session, {r.target for r in rows})) if rows else None
            except OperationalError:  # a deadlock with another worker (MySQL): retry
                log.info("claim conflicted with another worker; retrying")
                time.sleep(0.05 * (attempt + 1))
        return None

    def drain(self, max_batches: int = 1_000_000) -> int:
        """Send until nothing is due now."""
        total = 0
        for _ in range(max_batches):
            handled = self.run_once()
            if not handled:
                break
            total += handled
        return total

    def _send_group(self, rows: list[tuple[Delivery, Route | None]]) -> None:
        """Send one address's rows in order, recording each outcome at once:
        after a crash only the message on the wire can go out twice."""
        for row, route in rows:
            outcome = self._send_one(row, route)
            now = self.runtime.clock.now()
            with transaction(self.runtime.sessions) as session:
                record_outcome(session, outcome)
                if route is not None and outcome["state"] in (SENT, FAILED):
                    record_address(session, route, outcome.get("last_error"), now)
                if outcome["state"] == FAILED:
                    add_event(session, "delivery-failed",
                              f"{row.target} {row.purpose} {row.period}：{outcome['last_error']}", now, scope=row.target)

    def _send_one(self, row: Delivery, route: Route | None) -> dict:
        now = self.runtime.clock.now()
        if route is None:
            return self._failure(row, SendError(NO_ADDRESS, permanent=True), now)
        try:
            self.channels[route.kind].send(route.value, row.body)
        except SendError as e:
            if not e.attempted:  # paced: not tried, costs no attempt
                return {"id": row.id, "state": PENDING, "due_at": now + timedelta(seconds=e.retry_after or 60)}
            return self._failure(row, e, now, route)
        except Exception as e:  # a bug must not lose the row: keep it, log it
            log.exception("delivery %s crashed", row.id)
            return self._failure(row, SendError(f"内部错误 {type(e).__name__}", permanent=False), now, route)
        return {"id": row.id, "state": SENT, "sent_at": now, "attempts": row.attempts + 1,
                "last_error": None, "channel": route.kind, "address": route.value}

    def _failure(self, row: Delivery, error: SendError, now: datetime, route: Route | None = None) -> dict:
        attempts = row.attempts + 1
        used = {"channel": route.kind, "address": route.value} if route else {}
        if error.permanent or attempts >= MAX_ATTEMPTS:
            reason = str(error) if error.permanent else f"重试 {attempts} 次仍失败：{error}"
            log.warning("delivery %s to %s failed: %s", row.id, row.target, reason)
            return {"id": row.id, "state": FAILED, "attempts": attempts, "last_error": reason, **used}
        delay = error.retry_after or min(30 * 2 ** attempts, 3600)
        return {"id": row.id, "state": PENDING, "attempts": attempts, "last_error": str(error),
                "due_at": now + timedelta(seconds=delay * random.uniform(1.0, 1.2)), **used}
