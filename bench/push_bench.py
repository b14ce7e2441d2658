"""The monthly push for a generated county of 10,000 branches, to the
loopback WeCom stand-in (its own process): prints messages/s, total time and
peak RSS, and checks the robot limit (≤ 20 / minute / key) held.

    .venv/bin/python bench/push_bench.py [--branches 10000]

Goal (issue 6): ≤ 20 s for 10,000 sheets (≥ 500 messages/s), ≤ 300 MB RSS."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, prepare_county, standin_received, start_standin  # noqa: E402

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from bot.config import load_config
from bot.runtime import Runtime
from bot.outbound.worker import DeliveryWorker
from bot.schedule.pushes import monthly_sheet
from storage.db import transaction
from storage.outbox import enqueue
runtime = Runtime.from_config(load_config(use_file=False, environ={}, overrides={
    "database.url": sys.argv[2], "wecom.api_base": sys.argv[3], "wecom.corp_id": "wwbench",
    "wecom.secret": "s", "wecom.agent_id": 1, "scheduler.quiet_start": "23:59",
    "scheduler.quiet_end": "00:00"}))
t0 = time.perf_counter()
with transaction(runtime.sessions) as s:
    queued = enqueue(s, monthly_sheet.messages(s, runtime.clock.today(), "2027-03"), runtime.clock.now())
t_queue = time.perf_counter() - t0
sent = DeliveryWorker(runtime, threads=int(sys.argv[4]), batch=500).drain()
total = time.perf_counter() - t0
print(json.dumps({"queued": queued, "sent": sent, "queue_s": t_queue, "total_s": total,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--branches", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = prepare_county(tmp, args.branches, "push")
        standin, base = start_standin()
        try:
            out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), db, base, str(args.threads)],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            received = standin_received(base)
        finally:
            standin.terminate()
    per_key = Counter(m["to"] for m in received)
    print(f"branches:            {args.branches:,}")
    print(f"sheets queued:       {r['queued']:,} (rendering + insert {r['queue_s']:.2f} s)")
    print(f"messages sent:       {r['sent']:,}; received by the stand-in: {len(received):,}")
    print(f"total time:          {r['total_s']:.2f} s")
    print(f"throughput:          {r['sent'] / r['total_s']:.0f} messages/s")
    print(f"peak RSS (pusher):   {r['rss_mb']:.0f} MB")
    print(f"max per robot key:   {max(per_key.values())} (limit 20/minute)")


if __name__ == "__main__":
    main()
