"""Shared helpers for the benchmarks: a generated county, a stand-in process."""
from __future__ import annotations

import csv
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATEGORIES = ["农村", "社区", "机关", "国企", "非公企业", "学校"]


def write_county(folder: Path, branches: int, members_per_branch: int = 1) -> None:
    """A roster folder (organizations.csv + members.csv) of `branches` branches
    under 50 committees; every branch has a robot key (so all go concurrently)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "organizations.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["code", "name", "type", "parent_code", "category", "robot_key", "chat_id"])
        w.writerow(["ZZB", "某县委组织部", "组织部", "", "", "", ""])
        for c in range(1, 51):
            w.writerow([f"DW{c:02d}", f"第{c}党委", "党委", "ZZB", "", "", ""])
        for b in range(1, branches + 1):
            w.writerow([f"ZB{b:05d}", f"第{b}村党支部", "党支部", f"DW{b % 50 + 1:02d}",
                        CATEGORIES[b % 6], f"robot-{b:05d}", ""])
    with (folder / "members.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["name", "wecom_userid", "mobile", "branch_code", "role", "status",
                    "mobile_member", "outflow_city", "retired", "joined_on"])
        w.writerow(["部长甲", "s0001", "", "ZZB", "部长", "正式党员", "", "", "", ""])
        for b in range(1, branches + 1):
            for m in range(members_per_branch):
                w.writerow([f"党员{b}-{m}", f"u{b:05d}{m:02d}", "", f"ZB{b:05d}", "书记" if m == 0 else "党员",
                            "正式党员", "", "", "", "2000-07-01"])


def prepare_county(tmp: str, branches: int, name: str) -> str:
    """A SQLite database of a generated county and the 2027 plan; its URL."""
    import os
    write_county(Path(tmp) / "county", branches)
    db = f"sqlite:///{tmp}/{name}.db"
    env = {**os.environ, "ZHIBU_DATABASE__URL": db, "ZHIBU_CONFIG": os.devnull, "ZHIBU_LOG__LEVEL": "WARNING"}
    for cmd in (["import-roster", f"{tmp}/county"], ["import-plan", str(ROOT / "examples/plan-2027.yaml")]):
        subprocess.run([sys.executable, "-m", "bot", *cmd], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_standin(latency: float = 0.0, limits: str = "lenient") -> tuple[subprocess.Popen, str]:
    """The stand-in in its own process: `latency` seconds a call (WeCom's, as
    seen from a county server), `limits` "real" for WeCom's per-person,
    person-time and per-API caps."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bot.wecom.standin", "--port", str(port),
                             "--latency", str(latency), "--limits", limits], cwd=ROOT,
                            stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/cgi-bin/"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "_standin/received", timeout=1)
            return proc, base
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("stand-in did not start")


def standin_received(base: str) -> list[dict]:
    with urllib.request.urlopen(base + "_standin/received", timeout=30) as r:
        return json.load(r)["received"]
