"""The delivery worker: claims due rows of the outbox, picks each row's
channel from its audience's addresses, sends, and records each outcome on
the row and on the address (a permanent failure also as an event).

Rows for different addresses are sent concurrently over pooled connections;
rows for one address go in order. A channel that must pace itself (a group
robot: 20 a minute; a person: 30 a minute, 1,000 an hour) puts a row back
with a later due time while the others go on, so one busy group never
stalls the push. A row WeCom refuses for frequency (45009 / 45033 / -1)
waits the block out — delayed, with the reason and the time in its
last_error, never failed for it (unless a whole day passes). Quiet hours
hold back everything but answers someone is waiting for (outbox.URGENT).

The channels' pacers live in this process's memory: before its first batch
(and again after `reseed`, when a scheduler takes the lead) a worker counts
the last hour's sent rows from the database, so a new leader never sends
one person a 31st message in the minute the old leader sent 30."""
from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import nullcontext
from datetime import datetime, timedelta

from sqlalchemy.exc import OperationalError

from bot.outbound.channel import HOUR, MARGIN, Channel, SendError
from bot.outbound.channels import CHANNELS
from bot.runtime import Runtime
from bot.wecom.client import WeComClient
from storage.addresses import MEMBER, Route, addresses_of, owner_parts, record_outcome as record_address
from storage.db import transaction
from storage.events import add_event
from storage.leases import holder_name
from storage.models import Delivery
from storage.outbox import (FAILED, PENDING, RESENT, SENT, URGENT, claim, record_outcome,
                            release_orphans, sent_since)

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
RATE_LIMITED_FOR_AT_MOST = timedelta(days=1)  # then a row refused for frequency is reported as failed
NO_ADDRESS = "未配置群机器人 key 或应用群聊 chatid"


PREFERENCE = {channel.kind: i for i, channel in enumerate(CHANNELS) if not channel.per_message}
PER_MESSAGE = {channel.kind for channel in CHANNELS if channel.per_message}


def choose_route(owner: str, addresses: list[Route]) -> Route | None:
    """The address a message goes to: the owner's address of the most
    preferred channel; a member without one is reached at their WeCom id."""
    usable = [a for a in addresses if a.kind in PREFERENCE]
    if usable:
        return min(usable, key=lambda a: PREFERENCE[a.kind])
    kind, key = owner_parts(owner)
    return Route(owner, "wecom_user", key) if kind == MEMBER and key else None


def route_of(row: Delivery, addresses: list[Route]) -> Route | None:
    """A row that names a per-message channel (a reply url) goes there;
    every other row by its target's addresses."""
    if row.channel in PER_MESSAGE and row.address:
        return Route(row.target, row.channel, row.address)
    return choose_route(row.target, addresses)


class DeliveryWorker:
    def __init__(self, runtime: Runtime, client: WeComClient | None = None,
                 threads: int = 16, batch: int = 200):
        self.runtime, self.client = runtime, client or WeComClient(runtime)
        self.channels: dict[str, Channel] = {c.kind: c(self.client, runtime.clock.now) for c in CHANNELS}
        self.worker_id = holder_name(uuid.uuid4().hex[:6])
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="deliver")
        self.batch, self.recovered, self.seeded = batch, False, False
        self.stuck_after = timedelta(seconds=runtime.config["scheduler.lease_seconds"])
        self.sending: dict[tuple, Future] = {}  # the last task per address
        # SQLite has one writer: its busy handler sleeps a writer that finds the
        # lock taken for 1, 2, 5 … ms. The sending threads queue on a lock of
        # our own instead, woken the moment the previous outcome is written.
        self.writing = threading.Lock() if runtime.engine.dialect.name == "sqlite" else nullcontext()

    def quiet(self, now: datetime) -> bool:
        """No pushes at night (scheduler.quiet_start … quiet_end)."""
        start, end = (self.runtime.config[k] for k in ("scheduler.quiet_start", "scheduler.quiet_end"))
        at = now.strftime("%H:%M")
        return (start <= at or at < end) if start > end else (start <= at < end)

    def reseed(self) -> None:
        """Count WeCom's windows again from the database before the next
        batch (this process takes the lead: others may have sent meanwhile)."""
        self.seeded = False

    def _seed(self, now: datetime) -> None:
        self.seeded = True
        longest = max((span for c in self.channels.values() for limit in c.limits for span, _ in limit.windows),
                      default=HOUR)
        with self.runtime.sessions() as session:
            sent = sent_since(session, now - longest - MARGIN)
        by_channel: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
        for kind, address, at in sent:
            by_channel[kind].append((address, at))
        for kind, channel in self.channels.items():
            if channel.limits:
                channel.seed(by_channel.get(kind, []))
        if sent:
            log.info("pacing starts from %d messages sent in the last %s", len(sent), longest)

    def run_once(self) -> int:
        """Send one batch of due rows and wait for it; how many rows were handled."""
        handled, futures = self._start_batch()
        wait(futures)
        return handled

    def _start_batch(self) -> tuple[int, list[Future]]:
        """Claim due rows and hand them to the sending threads, one task per
        address; rows for an address still being sent from an earlier batch
        wait for it (the pool starts tasks in order, so that one is running)."""
        now = self.runtime.clock.now()
        if not self.seeded:
            self._seed(now)
        claimed = self._claim(now, URGENT if self.quiet(now) else None)
        if not claimed:
            return 0, []
        rows, addresses = claimed
        by_address: dict[tuple, list[tuple[Delivery, Route | None]]] = defaultdict(list)
        for row in rows:
            route = route_of(row, addresses.get(row.target, []))
            by_address[(route.kind, route.value) if route else ("none", row.id)].append((row, route))
        self.sending = {key: f for key, f in self.sending.items() if not f.done()}
        futures = []
        for key, group in by_address.items():
            future = self.pool.submit(self._send_group, group, self.sending.get(key))
            self.sending[key] = future
            futures.append(future)
        return len(rows), futures

    def _claim(self, now: datetime, purposes) -> tuple[list[Delivery], dict[str, list[Route]]] | None:
        for attempt in range(3):
            try:
                with self.writing, transaction(self.runtime.sessions) as session:
                    if not self.recovered:
                        orphans = release_orphans(session, now)
                        self.recovered = True
                        if orphans:
                            log.warning("%d deliveries were left sending by a process that died: "
                                        "they go again, marked %s", orphans, RESENT)
                    rows, resent = claim(session, self.worker_id, now, self.batch, purposes, self.stuck_after)
                    if resent:
                        log.warning("%d deliveries were stuck sending for over %s: taken back, "
                                    "sent again marked %s", resent, self.stuck_after, RESENT)
                    return (rows, addresses_of(session, {r.target for r in rows})) if rows else None
            except OperationalError:  # a deadlock with another worker (MySQL): retry
                log.info("claim conflicted with another worker; retrying")
                time.sleep(0.05 * (attempt + 1))
        return None

    def drain(self, max_batches: int = 1_000_000) -> int:
        """Send until nothing is due now. The next batch is claimed while
        the second half of the last one is still being sent, so the sending
        threads do not stand idle between batches."""
        total, running = 0, []
        for _ in range(max_batches):
            handled, futures = self._start_batch()
            if not handled:
                if not running:
                    break
                wait(running)  # what they put back may be due again at once (a retry)
                running = []
                continue
            total += handled
            running = [f for f in running if not f.done()] + futures
            wait([futures[len(futures) // 2]])
        wait(running)
        return total

    def _send_group(self, rows: list[tuple[Delivery, Route | None]], after: Future | None = None) -> None:
        """Send one address's rows in order (after its rows of an earlier
        batch), recording each outcome at once: after a crash only the
        message on the wire can go out twice."""
        if after is not None:
            wait([after])
        for row, route in rows:
            outcome = self._send_one(row, route)
            now = self.runtime.clock.now()
            failed = outcome["state"] == FAILED
            with self.writing, (transaction(self.runtime.sessions) if failed else self.runtime.engine.begin()) as db:
                record_outcome(db, outcome)  # (a plain connection on the common path: once per message)
                if route is not None and route.kind not in PER_MESSAGE and outcome["state"] in (SENT, FAILED):
                    record_address(db, route, outcome.get("last_error"), now)
                if failed:
                    add_event(db, "delivery-failed",
                              f"{row.target} {row.purpose} {row.period}：{outcome['last_error']}", now, scope=row.target)

    def _send_one(self, row: Delivery, route: Route | None) -> dict:
        now = self.runtime.clock.now()
        if route is None:
            return self._failure(row, SendError(NO_ADDRESS, permanent=True), now)
        try:
            self.channels[route.kind].send(route.value, row.body)
        except SendError as e:
            if not e.attempted:  # paced: not tried, costs no attempt
                due = now + timedelta(seconds=e.retry_after or 60)
                return {"id": row.id, "state": PENDING, "due_at": due, "last_error": f"{e}（{due:%m-%d %H:%M:%S}）"}
            if e.rate_limited:
                return self._delayed(row, e, now, route)
            return self._failure(row, e, now, route)
        except Exception as e:  # a bug must not lose the row: keep it, log it
            log.exception("delivery %s crashed", row.id)
            return self._failure(row, SendError(f"内部错误 {type(e).__name__}", permanent=False), now, route)
        return {"id": row.id, "state": SENT, "sent_at": now, "attempts": row.attempts + 1,
                "last_error": None, "channel": route.kind, "address": route.value}

    def _delayed(self, row: Delivery, error: SendError, now: datetime, route: Route) -> dict:
        """WeCom refused for frequency: wait the block out (no attempt spent)."""
        used = {"channel": route.kind, "address": route.value}
        if now - row.received_at > RATE_LIMITED_FOR_AT_MOST:
            reason = f"频率超限，{RATE_LIMITED_FOR_AT_MOST.days} 天内未能发出：{error}"
            log.warning("delivery %s to %s failed: %s", row.id, row.target, reason)
            return {"id": row.id, "state": FAILED, "attempts": row.attempts + 1, "last_error": reason, **used}
        due = now + timedelta(seconds=(error.retry_after or 60) * random.uniform(1.0, 1.1))
        log.info("delivery %s to %s delayed until %s: %s", row.id, row.target, due, error)
        return {"id": row.id, "state": PENDING, "due_at": due, "last_error": f"{error}（延后至 {due:%m-%d %H:%M}）",
                **used}

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
