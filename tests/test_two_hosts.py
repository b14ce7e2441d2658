"""Two hosts on one PostgreSQL, measured: two full `python -m bot serve`
instances (gunicorn + scheduler each, as separate process trees with their
own `server.host_id`) share a throw-away PostgreSQL and the loopback WeCom
stand-in. Exactly one leads; a callback sent to both is acted on once; the
leader's whole tree is killed with SIGKILL in the middle of the monthly
push, the other takes the lead once the lease has run out, and every
branch gets its sheet — some twice (those on the wire at the kill), none
lost. The figures are printed (run with -s to see them)."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, select

from bot.clock import Clock
from storage.db import transaction
from storage.jobs import set_push_day
from storage.models import Delivery, InboundMessage, Lease
from storage.month import Month
from tests.conftest import ROOT, fresh_pg_database, load_county, make_runtime
from tests.db_servers import free_port
from tests.wecom_peer import AES_KEY, CORP_ID, TOKEN, WeComPeer, text_xml

BRANCHES = 36
LEASE_SECONDS = 6


class Host:
    """One `serve` (gunicorn master + workers + scheduler) in its own
    process group, so that one signal reaches the whole tree."""

    def __init__(self, name: str, db: str, standin, tmp_path):
        self.name, self.port = name, free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIBU_")}
        env.update({
            "ZHIBU_CONFIG": os.devnull, "ZHIBU_DATABASE__URL": db,
            "ZHIBU_SERVER__HOST_ID": name, "ZHIBU_SERVER__PORT": str(self.port),
            "ZHIBU_SERVER__WORKERS": "2", "ZHIBU_SERVER__MEDIA_DIR": str(tmp_path / f"media-{name}"),
            "ZHIBU_WECOM__API_BASE": standin.api_base, "ZHIBU_WECOM__CORP_ID": CORP_ID,
            "ZHIBU_WECOM__SECRET": "app-secret", "ZHIBU_WECOM__AGENT_ID": "1000002",
            "ZHIBU_WECOM__TOKEN": TOKEN, "ZHIBU_WECOM__ENCODING_AES_KEY": AES_KEY,
            "ZHIBU_SCHEDULER__LEASE_SECONDS": str(LEASE_SECONDS),
            # today's run is due at once (the sheet's day is set to today below), at any hour
            "ZHIBU_SCHEDULER__MONTHLY_PUSH_TIME": "00:01",
            "ZHIBU_SCHEDULER__QUIET_START": "00:00", "ZHIBU_SCHEDULER__QUIET_END": "00:00",
            "ZHIBU_LOG__LEVEL": "INFO"})
        self.log = tmp_path / f"{name}.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=env,
                                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url("/healthz"), timeout=1) as r:
                    if json.load(r)["ok"]:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"{self.name} did not start:\n{self.log.read_text()}")

    def tree(self) -> list[str]:
        """The live processes of its group (a killed child may linger as a zombie)."""
        pids = subprocess.run(["pgrep", "-g", str(self.process.pid)], capture_output=True, text=True).stdout
        return [pid for pid in pids.split() if _state(pid) not in ("Z", "X", None)]

    def kill_tree(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)


def _state(pid: str) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def post(url: str, body: str, query: dict) -> tuple[int, bytes]:
    from urllib.parse import urlencode
    request = urllib.request.Request(f"{url}?{urlencode(query)}", data=body.encode(), method="POST",
                                     headers={"Content-Type": "text/xml"})
    with urllib.request.urlopen(request, timeout=10) as r:
        return r.status, r.read()


def leader(engine) -> str | None:
    with engine.connect() as conn:
        holder = conn.execute(select(Lease.holder).where(Lease.name == "scheduler")).scalar()
    return holder.split(":", 1)[0] if holder else None


def wait_for(condition, seconds: float, step: float = 0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return condition()


def test_two_hosts_one_postgresql_failover_mid_push(pg_base_url, tmp_path, standin):
    db = fresh_pg_database(pg_base_url)
    rt = load_county(make_runtime(db, tmp_path))
    real = Clock(ZoneInfo("Asia/Shanghai"))
    if real.now().strftime("%H:%M") < "00:02":  # before the push time of 00:01 (a minute a day)
        time.sleep(125 - real.now().minute * 60 - real.now().second)
    today = real.today()
    with transaction(rt.sessions) as s:  # staff chose today for this month's sheet
        set_push_day(s, Month.of(today), today, real.now())
    rt.engine.dispose()
    title = f"{today.year}年{today.month}月重点工作提醒单"
    engine = create_engine(db)

    def sheets() -> Counter:
        return Counter(r["to"] for r in standin.received() if title in str(r["body"]))

    standin.state.delay = 1.0  # each WeCom call takes a second: the push lasts a while
    hosts = {name: Host(name, db, standin, tmp_path) for name in ("host-a", "host-b")}
    try:
        for host in hosts.values():
            host.wait_ready()

        # Exactly one leads, and keeps leading while both live.
        first = wait_for(lambda: leader(engine), 20)
        assert first in hosts
        other = next(name for name in hosts if name != first)
        seen = set()
        for _ in range(10):
            seen.add(leader(engine))
            time.sleep(0.1)
        assert seen == {first}

        # The same encrypted callback to both hosts at once: acted on once.
        peer = WeComPeer(None, real)
        body, query = peer.sealed(text_xml("u700001", "任务"))
        answers: dict[str, tuple[int, bytes]] = {}
        calls = [threading.Thread(target=lambda n=n: answers.__setitem__(n, post(h.url("/wecom/callback"), body, query)))
                 for n, h in hosts.items()]
        for call in calls:
            call.start()
        for call in calls:
            call.join()
        assert [status for status, _ in answers.values()] == [200, 200]
        # The first is answered; the other, a duplicate, gets that same answer (or an empty
        # 200 if it came while the first was still being handled) — never a second action.
        assert any(data for _, data in answers.values())
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(InboundMessage)).scalar() == 1

        # The leader's catch-up queues the sheets and starts sending: kill its tree mid-push.
        assert wait_for(lambda: sum(sheets().values()) >= 1, 30, 0.01), hosts[first].log.read_text()
        with engine.connect() as conn:
            claimers = set(conn.execute(select(Delivery.claimed_by).where(Delivery.claimed_by.is_not(None))).scalars())
        assert claimers and {c.split(":", 1)[0] for c in claimers} == {first}  # only the leader sends
        assert [h.log.read_text().count(" leads") for h in hosts.values()].count(1) == 1
        killed_at = time.monotonic()
        hosts[first].kill_tree()
        assert wait_for(lambda: hosts[first].tree() == [], 5)
        sent_before = len(sheets())
        assert 0 < sent_before < BRANCHES, "the kill should land mid-push"
        standin.state.delay = 0

        taken = wait_for(lambda: leader(engine) == other, 3 * LEASE_SECONDS, 0.05)
        takeover = time.monotonic() - killed_at
        assert taken, hosts[other].log.read_text()
        complete = wait_for(lambda: len(sheets()) == BRANCHES, 4 * LEASE_SECONDS + 10, 0.05)
        all_sent = time.monotonic() - killed_at

        def states() -> dict:
            with engine.connect() as conn:
                return dict(conn.execute(select(Delivery.state, func.count())
                                         .where(Delivery.purpose == "monthly-sheet")
                                         .group_by(Delivery.state)).all())
        recorded = wait_for(lambda: states() == {"sent": BRANCHES}, 10, 0.05)  # outcomes follow the answers
        received = sheets()
        with engine.connect() as conn:
            by_survivor = conn.execute(select(func.count()).select_from(Delivery).where(
                Delivery.purpose == "monthly-sheet", Delivery.claimed_by.like(f"{other}:%"))).scalar()
        lost, resends = BRANCHES - len(received), sum(received.values()) - len(received)
        print(f"\ntwo hosts on PostgreSQL, lease {LEASE_SECONDS}s: killed {first} after {sent_before} of "
              f"{BRANCHES} sheets; {other} took the lead after {takeover:.1f}s; all sheets out "
              f"{all_sent:.1f}s after the kill; sheets lost: {lost}; resends: {resends} "
              f"(sent by {other}: {by_survivor})")
        assert complete and lost == 0 and recorded, states()
        assert set(received.values()) <= {1, 2}
        assert resends <= 16  # only those on the wire at the kill (one per sending thread) go twice
        assert takeover <= LEASE_SECONDS + LEASE_SECONDS / 3 + 2  # the lease, one heartbeat, slack
        assert hosts[other].process.poll() is None  # the survivor is still serving
    finally:
        for host in hosts.values():
            host.kill_tree()
        engine.dispose()


def test_a_dead_holder_on_another_host_waits_for_the_configured_lease(tmp_path):
    """Its pid means nothing here: only the lease's end frees it. One on this
    host whose process is gone is taken over at once."""
    from datetime import timedelta

    from bot.schedule.scheduler import LEASE, Scheduler
    from storage.leases import local_host, set_local_host, try_acquire
    dead_pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout.strip()
    rt = make_runtime(f"sqlite:///{tmp_path}/l.db", tmp_path, **{
        "server.host_id": "host-b", "scheduler.lease_seconds": 10})
    assert local_host() == "host-b"
    try:
        now, ttl = rt.clock.now(), timedelta(seconds=10)
        with transaction(rt.sessions) as s:
            assert try_acquire(s, LEASE, f"host-a:{dead_pid}:x", now, ttl)
        scheduler = Scheduler(rt)
        assert scheduler.holder.startswith(f"host-b:{os.getpid()}:")
        rt.clock.advance(seconds=9)
        assert not scheduler.is_leader()  # host-a's lease runs 10 s
        rt.clock.advance(seconds=2)
        assert scheduler.is_leader()
        with transaction(rt.sessions) as s:  # a dead process of this host: at once
            assert try_acquire(s, "other", f"host-b:{dead_pid}:x", rt.clock.now(), ttl)
            assert try_acquire(s, "other", "host-b:1:y", rt.clock.now(), ttl)
    finally:
        set_local_host(load_config_default_host())
        rt.engine.dispose()


def load_config_default_host() -> str:
    from bot.config import load_config
    return load_config(environ={}, use_file=False)["server.host_id"]


def test_host_id_and_lease_seconds_are_checked():
    import pytest

    from bot.config import ConfigError, load_config
    config = load_config(environ={}, use_file=False)
    assert config["server.host_id"] and ":" not in config["server.host_id"]
    assert config["scheduler.lease_seconds"] == 30
    for key, bad in (("server.host_id", "a:b"), ("server.host_id", "x" * 41), ("scheduler.lease_seconds", "1")):
        with pytest.raises(ConfigError, match=key):
            load_config(environ={}, use_file=False, overrides={key: bad})


def test_a_follower_that_takes_the_lead_catches_up_and_sends_at_once(tmp_path):
    from bot.schedule.scheduler import Scheduler
    rt = make_runtime(f"sqlite:///{tmp_path}/f.db", tmp_path, **{"scheduler.lease_seconds": 10})
    first, second = Scheduler(rt), Scheduler(rt)
    jobs = second.build(blocking=False)
    jobs.start(paused=True)  # the jobs are there, none runs by itself
    try:
        assert first.is_leader() and not second.is_leader()
        assert jobs.get_job("catch-up") is None
        rt.clock.advance(seconds=11)  # the first stopped renewing
        assert second.is_leader()
        assert jobs.get_job("catch-up") is not None  # today's run, once (job_runs), by the new leader
        assert jobs.get_job("deliver").next_run_time <= datetime.now(second.tz)  # now, not in 5 s
    finally:
        jobs.shutdown(wait=False)
        rt.engine.dispose()
