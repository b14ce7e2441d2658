"""Encrypted `签到` / `任务` callbacks at the served app (`python -m bot
serve`: gunicorn, 2 workers, on loopback), and in the same run the same
load at a bare Flask endpoint that only decrypts, inserts one row and
encrypts a reply (the floor of this stack). Prints throughput and p50/p99
latency for both, at full speed and paced at 200/s.

    .venv/bin/python bench/callback_bench.py [--requests 6000]

Goal (issue 5): the app ≥ 1,000 callbacks/s and ≥ 35 % of the bare
endpoint; p99 ≤ 20 ms at 200/s."""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import loadgen  # noqa: E402
from bench.common import ROOT, free_port  # noqa: E402

TOKEN, AES, CORP = "benchToken", "BenchAesKey0123456789BenchAesKey0123456789a", "wwbench000001"


def wait_up(port: int, path: str) -> None:
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on {port} did not start")


def run_wrk(port: int, requests: list[tuple[str, bytes]], tmp: str, seconds: int = 5) -> dict:
    """Full speed with wrk (C, 4 threads, 16 connections): a Python load
    generator would take the CPU the servers need."""
    path = Path(tmp) / f"callbacks-{port}.txt"
    path.write_text("".join(f"{p}\t{b.decode()}\n" for p, b in requests), "utf-8")
    out = subprocess.run(["wrk", "-t4", "-c16", f"-d{seconds}s", "--latency", "-s",
                          str(ROOT / "bench/callbacks.lua"), f"http://127.0.0.1:{port}/"],
                         env={**os.environ, "CALLBACKS": str(path)}, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if socket_errors:
        print(f"  (wrk socket errors on port {port}: {socket_errors.group(1)})")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": _ms(re.search(r"50%\s+(\S+)", out).group(1)),
            "p99": _ms(re.search(r"99%\s+(\S+)", out).group(1)), "errors": int(errors.group(1)) if errors else 0,
            "count": int(re.search(r"(\d+) requests in", out).group(1))}


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not match:  # wrk prints e.g. "-nanus" when it has no sample
        return float("nan")
    return float(match.group(1)) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[match.group(2)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40000, help="distinct callbacks per server")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ZHIBU_CONFIG": os.devnull, "ZHIBU_DATABASE__URL": f"sqlite:///{tmp}/app.db",
               "ZHIBU_WECOM__TOKEN": TOKEN, "ZHIBU_WECOM__ENCODING_AES_KEY": AES, "ZHIBU_WECOM__CORP_ID": CORP,
               "ZHIBU_SCHEDULER__ENABLED": "false", "ZHIBU_LOG__LEVEL": "WARNING",
               "BARE_DB": f"sqlite:///{tmp}/bare.db", "BARE_TOKEN": TOKEN, "BARE_AES": AES, "BARE_CORP": CORP}
        subprocess.run([sys.executable, "-m", "bot", "import-roster", str(ROOT / "examples/county")],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([sys.executable, "-m", "bot", "import-plan", str(ROOT / "examples/plan-2026.yaml")],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        app_port, bare_port = free_port(), free_port()
        servers = [
            subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(app_port), "--workers", "2"],
                             cwd=ROOT, env=env),
            subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-w", "2", "-b",
                              f"127.0.0.1:{bare_port}", "--log-level", "warning", "bench.bare_app:app"],
                             cwd=ROOT, env=env)]
        try:
            wait_up(app_port, "/healthz")
            wait_up(bare_port, "/")
            members = [f"u7{n:05d}" for n in range(1, 900)]
            texts = ["签到", "任务"]
            report = {}
            for name, port, base in (("app", app_port, 10**15), ("bare", bare_port, 2 * 10**15)):
                full = loadgen.build_requests(TOKEN, AES, CORP, members, texts, args.requests, base)
                paced = loadgen.build_requests(TOKEN, AES, CORP, members, texts, 2000, base + 10**9)
                loadgen.run(port, full[:300], args.connections)  # warm up
                fast = run_wrk(port, full[300:], tmp) if shutil.which("wrk") else \
                    loadgen.run(port, full[300:], args.connections)
                report[name] = (fast, loadgen.run(port, paced, 4, rate=200))
        finally:
            for s in servers:
                s.terminate()
                s.wait()
    for name, (full, paced) in report.items():
        print(f"{name:5s} full speed: {full['rps']:7.0f} callbacks/s  p50 {full['p50']:5.1f} ms  "
              f"p99 {full['p99']:5.1f} ms  errors {full['errors']}  ({full['count']} callbacks)")
        print(f"{name:5s} at 200/s:    {paced['rps']:7.0f} callbacks/s  p50 {paced['p50']:5.1f} ms  "
              f"p99 {paced['p99']:5.1f} ms  errors {paced['errors']}")
    print(f"app / bare: {report['app'][0]['rps'] / report['bare'][0]['rps']:.0%}")


if __name__ == "__main__":
    main()
