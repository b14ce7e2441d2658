"""The monthly push for a generated county, to the loopback WeCom stand-in
(its own process) answering every call after WeCom's latency (--latency,
50 ms: a county server to qyapi.weixin.qq.com). In one run:

1. a bare sender: the same sheets, rendered beforehand, posted straight to
   the stand-in with the same concurrency — no database, no outbox, no
   pacing: what the wire and the stand-in allow;
2. the project's push: queue the sheets (render + insert) and send them
   with the delivery worker, as `push-monthly` does;
3. (unless --no-appchat) branches reached by app group chats of ~20
   members under WeCom's real person-time caps (stand-in --limits real:
   20,000 person-times a minute): the time the caps allow, and the time
   the worker takes — it must never exceed the caps (the stand-in would
   drop silently) and should not wait much longer than they require.

    .venv/bin/python bench/push_bench.py [--branches 10000] [--threads 16] [--latency 0.05]

Goals (issue 18): the project ≥ 90 % of the bare sender — sending the same
queued messages; the end-to-end figure, which also renders the sheets (done
before the clock starts for the bare sender), is printed beside it; the
bare sender ≥ 80 % of concurrency ÷ latency (the stand-in is not the
bottleneck); the appchat push ≤ 110 % of the time the caps allow. Issue 6:
≤ 300 MB RSS."""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, prepare_county, standin_received, start_standin  # noqa: E402

SETUP = r"""
import sys
sys.path.insert(0, sys.argv[1])
from bot.config import load_config
from bot.runtime import Runtime
runtime = Runtime.from_config(load_config(use_file=False, environ={}, overrides={
    "database.url": sys.argv[2], "wecom.api_base": sys.argv[3], "wecom.corp_id": "wwbench",
    "wecom.secret": "s", "wecom.agent_id": 1, "scheduler.quiet_start": "23:59",
    "scheduler.quiet_end": "00:00"}))
"""

# The bare sender: render and look up the robot keys first (not timed), then
# post every message with `threads` keep-alive connections, nothing else.
BARE = SETUP + r"""
import json, threading, time
from concurrent.futures import ThreadPoolExecutor
import requests
from bot.schedule.pushes import monthly_sheet
from storage.addresses import addresses_of
with runtime.sessions() as s:
    messages = monthly_sheet.messages(s, runtime.clock.today(), "2027-03")
    keys = {owner: routes[0].value for owner, routes in addresses_of(s, {m.audience for m in messages}).items()}
work = [(keys[m.audience], m.body) for m in messages]
local = threading.local()
url = sys.argv[3] + "webhook/send"

def post(item):
    key, body = item
    session = getattr(local, "session", None) or requests.Session()
    local.session = session
    doc = session.post(url, params={"key": key}, json={"msgtype": "markdown", "markdown": {"content": body}},
                       timeout=10).json()
    return doc["errcode"] == 0

t0 = time.perf_counter()
with ThreadPoolExecutor(int(sys.argv[4])) as pool:
    ok = sum(pool.map(post, work))
total = time.perf_counter() - t0
print(json.dumps({"sent": ok, "total_s": total}))
"""

PUSH = SETUP + r"""
import json, resource, time
from bot.outbound.worker import DeliveryWorker
from bot.schedule.pushes import monthly_sheet
from storage.db import transaction
from storage.outbox import enqueue
t0 = time.perf_counter()
with transaction(runtime.sessions) as s:
    queued = enqueue(s, monthly_sheet.messages(s, runtime.clock.today(), "2027-03"), runtime.clock.now())
t_queue = time.perf_counter() - t0
sent = DeliveryWorker(runtime, threads=int(sys.argv[4]), batch=500).drain()
total = time.perf_counter() - t0
print(json.dumps({"queued": queued, "sent": sent, "queue_s": t_queue, "send_s": total - t_queue,
                  "total_s": total, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

# Branches reached by app chats: the worker runs as the scheduler runs it
# (every few seconds), until every row is sent.
APPCHAT = SETUP + r"""
import json, time
from sqlalchemy import select, func
from bot.outbound.worker import DeliveryWorker
from bot.schedule.pushes import monthly_sheet
from storage.db import transaction
from storage.models import Delivery
from storage.outbox import enqueue
with transaction(runtime.sessions) as s:
    queued = enqueue(s, monthly_sheet.messages(s, runtime.clock.today(), "2027-03"), runtime.clock.now())
worker = DeliveryWorker(runtime, threads=int(sys.argv[4]), batch=500)
t0 = time.perf_counter()
while True:
    worker.drain()
    with runtime.sessions() as s:
        states = dict(s.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())
    if not states.get("pending"):
        break
    time.sleep(0.2)  # the scheduler ticks every 5 s; a finer tick measures the pacing, not the tick
print(json.dumps({"queued": queued, "states": states, "total_s": time.perf_counter() - t0}))
"""


def run(script: str, db: str, base: str, threads: int) -> dict:
    out = subprocess.run([sys.executable, "-c", script, str(ROOT), db, base, str(threads)],
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def post(base: str, action: str, doc: dict | None = None) -> None:
    request = urllib.request.Request(base + "_standin/" + action, data=json.dumps(doc or {}).encode(),
                                     method="POST")
    urllib.request.urlopen(request, timeout=30).read()


def as_appchat(db: str, members: int) -> list[tuple[str, list[str]]]:
    """Give every branch an app chat of `members` instead of its robot."""
    import sqlite3
    conn = sqlite3.connect(db.split("///", 1)[1])
    owners = [o for (o,) in conn.execute("SELECT DISTINCT owner FROM addresses WHERE kind = 'wecom_robot'")]
    conn.execute("UPDATE addresses SET kind = 'wecom_appchat', value = 'chat' || substr(owner, 5) "
                 "WHERE kind = 'wecom_robot'")  # owner "org:ZB00001" → chat id "chatZB00001"
    conn.commit()
    conn.close()
    codes = [owner.split(":", 1)[1] for owner in owners]
    return [(f"chat{code}", [f"{code}-m{i}" for i in range(members)]) for code in codes]


def mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--branches", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per WeCom call (stand-in)")
    parser.add_argument("--appchat-branches", type=int, default=2_000)
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--no-appchat", action="store_true")
    args = parser.parse_args()
    ceiling = args.threads / args.latency if args.latency else float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        db = prepare_county(tmp, args.branches, "push")
        standin, base = start_standin(latency=args.latency)
        try:
            bare = run(BARE, db, base, args.threads)
            post(base, "reset")
            r = run(PUSH, db, base, args.threads)
            received = standin_received(base)
        finally:
            standin.terminate()
        per_key = Counter(m["to"] for m in received)
        bare_rate, push_rate, send_rate = (bare["sent"] / bare["total_s"], r["sent"] / r["total_s"],
                                           r["sent"] / r["send_s"])
        print(f"WeCom latency (stand-in): {args.latency * 1000:.0f} ms a call; {args.threads} connections; "
              f"ceiling {ceiling:.0f} messages/s")
        print(f"branches:              {args.branches:,}")
        print(f"bare sender:           {bare['sent']:,} sheets in {bare['total_s']:.2f} s = {bare_rate:.0f} messages/s"
              f"  ({bare_rate / ceiling:.0%} of the ceiling; goal ≥ 80 %: {mark(bare_rate >= 0.8 * ceiling)})")
        print(f"project push:          {r['sent']:,} sheets in {r['total_s']:.2f} s = {push_rate:.0f} messages/s"
              f"  (render + queue {r['queue_s']:.2f} s, then send {r['send_s']:.2f} s = {send_rate:.0f} messages/s)")
        print(f"project / bare:        sending {send_rate / bare_rate:.0%} (goal ≥ 90 %: {mark(send_rate >= 0.9 * bare_rate)}); "
              f"end to end, with rendering the bare sender does beforehand: {push_rate / bare_rate:.0%}")
        print(f"received by stand-in:  {len(received):,}; max per robot key {max(per_key.values())} (limit 20/minute)")
        print(f"peak RSS (pusher):     {r['rss_mb']:.0f} MB (goal ≤ 300 MB: {mark(r['rss_mb'] <= 300)})")
        if not args.no_appchat:
            appchat(tmp, args, ceiling)


def appchat(tmp: str, args, ceiling: float) -> None:
    db = prepare_county(str(Path(tmp) / "appchat"), args.appchat_branches, "appchat")
    chats = as_appchat(db, args.members)
    standin, base = start_standin(latency=args.latency, limits="real")
    try:
        for chat_id, users in chats:
            post(base, "chat", {"chatid": chat_id, "userlist": users})
        r = run(APPCHAT, db, base, args.threads)
        with urllib.request.urlopen(base + "_standin/received", timeout=30) as answer:
            seen = json.load(answer)
    finally:
        standin.terminate()
    per_minute = 20_000
    person_times = len(chats) * args.members
    chunk = per_minute // args.members  # chats a minute's cap allows
    minutes = math.ceil(len(chats) / chunk) - 1
    last = len(chats) - minutes * chunk
    allowed = minutes * 60 + last / ceiling
    # Each chat's size (appchat/get) is a call before its first send: the
    # first minute's sends spread over twice the time, and the window slides.
    with_gets = minutes * 60 + 2 * min(chunk, len(chats)) / ceiling if minutes else 2 * last / ceiling
    sent = len(seen["received"])
    print(f"appchat:               {len(chats):,} branches × {args.members} members = {person_times:,} person-times "
          f"(cap {per_minute:,} a minute)")
    print(f"  the caps allow:      {allowed:.1f} s ({minutes} full minute(s), then {last:,} sends at the ceiling); "
          f"{with_gets:.1f} s with one appchat/get per chat")
    print(f"  the push took:       {r['total_s']:.1f} s = {r['total_s'] / allowed:.0%} of that "
          f"(goal ≤ 110 %: {mark(r['total_s'] <= 1.1 * allowed)})")
    print(f"  delivered {sent:,}, dropped by the stand-in {len(seen['dropped'])} "
          f"(must be 0), rows {r['states']}")


if __name__ == "__main__":
    main()
