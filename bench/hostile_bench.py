"""Hostile input at the web edge (issue 17, rows 2 and 3). Prints:

1. what a hostile 64 KB callback body costs before it is refused: a whole
   tree (ElementTree over expat, what the old defusedxml reader built)
   against the bounded envelope reader, and the whole refusal through the
   app (test client);
2. /healthz latency under 50 slowloris connections for gunicorn's sync and
   gthread workers and for ours (bot/web/worker.py), 2 workers × 8 threads.

    .venv/bin/python bench/hostile_bench.py [--seconds 12]

Goal: a hostile body refused in about a millisecond; /healthz < 1 s under
slowloris (the test, tests/test_slow_clients.py, holds the attack 20 s)."""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, free_port  # noqa: E402

BODIES = {"64 KB of <a/>": b"<xml>" + b"<a/>" * (64 * 1024 // 4 - 3) + b"</xml>",
          "56 KB nested <a>": b"<xml>" + b"<a>" * 8_000 + b"</a>" * 8_000 + b"</xml>"}


def per_call(fn, body: bytes, repeat: int = 50) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        try:
            fn(body)
        except Exception:  # noqa: BLE001 - refusing is the point
            pass
    return (time.perf_counter() - started) / repeat * 1000


def parse_costs(tmp: str) -> None:
    from xml.etree.ElementTree import fromstring

    from bot.wecom.inbound import ENVELOPE, parse_xml
    from tests.conftest import make_runtime
    from bot.web import create_app
    app = create_app(runtime=make_runtime(f"sqlite:///{tmp}/b.db", Path(tmp), **{
        "wecom.token": "t", "wecom.corp_id": "wwbench", "wecom.encoding_aes_key": "a" * 43}))
    client, ts = app.test_client(), str(int(time.time()))
    query = {"timestamp": ts, "nonce": "n", "msg_signature": "0" * 40}
    post = lambda body: client.post("/wecom/callback", data=body, query_string=query)  # noqa: E731
    for name, body in BODIES.items():
        old = per_call(fromstring, body)
        new = per_call(lambda b: parse_xml(b, ENVELOPE), body)
        whole = per_call(post, body)
        print(f"{name:18} whole tree {old:7.2f} ms   bounded reader {new:6.3f} ms   "
              f"refused by the app (400) {whole:5.2f} ms")


def slowloris(worker_class: str, seconds: float) -> str:
    from tests.test_slow_clients import Slowloris, timed
    port = free_port()
    tmp = tempfile.mkdtemp()
    env = {**os.environ, "ZHIBU_CONFIG": os.devnull, "ZHIBU_DATABASE__URL": f"sqlite:///{tmp}/s.db"}
    subprocess.run([sys.executable, "-m", "bot", "init"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-k", worker_class, "-w", "2", "--threads", "8",
                               "-b", f"127.0.0.1:{port}", "bot.web:create_app()"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                timed(port, "GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        attack = Slowloris(port, 50)
        attack.start()
        while attack.opened < 50:
            time.sleep(0.05)
        latencies, failures, end = [], 0, time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                latencies.append(timed(port, "GET", "/healthz")[0])
            except OSError:
                failures += 1  # no answer within the client's 5 s
            time.sleep(0.5)
        attack.stop.set()
        attack.join(timeout=10)
    finally:
        server.terminate()
        server.wait(timeout=15)
    if not latencies:
        return f"0 of {failures} probes answered within 5 s"
    return (f"{len(latencies)} of {len(latencies) + failures} answered within 5 s, median "
            f"{statistics.median(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # every refusal is logged; not what is measured
    with tempfile.TemporaryDirectory() as tmp:
        parse_costs(tmp)
    for worker in ("sync", "gthread", "bot.web.worker.BufferedThreadWorker"):
        print(f"slowloris ×50, {worker:37} {slowloris(worker, args.seconds)}")


if __name__ == "__main__":
    main()
