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


def write_county(folder: Path, branches: int, members_per_branch: int = 1, committees: int = 50,
                 mobile_every: int = 0) -> None:
    """A roster folder (organizations.csv + members.csv) of `branches` branches
    under `committees` committees (branch b under committee b % committees + 1);
    every branch has a robot key (so all go concurrently). Member 0 of a branch
    is its secretary; with `mobile_every` = k, every k-th member is a mobile
    member (流动党员). Codes widen past 99,999 branches (province scale)."""
    folder.mkdir(parents=True, exist_ok=True)
    bw, cw = max(5, len(str(branches))), max(2, len(str(committees)))
    with (folder / "organizations.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["code", "name", "type", "parent_code", "category", "robot_key", "chat_id"])
        w.writerow(["ZZB", "某县委组织部", "组织部", "", "", "", ""])
        for c in range(1, committees + 1):
            w.writerow([f"DW{c:0{cw}d}", f"第{c}党委", "党委", "ZZB", "", "", ""])
        for b in range(1, branches + 1):
            w.writerow([f"ZB{b:0{bw}d}", f"第{b}村党支部", "党支部", f"DW{b % committees + 1:0{cw}d}",
                        CATEGORIES[b % 6], f"robot-{b:0{bw}d}", ""])
    with (folder / "members.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["name", "wecom_userid", "mobile", "branch_code", "role", "status",
                    "mobile_member", "outflow_city", "retired", "joined_on"])
        w.writerow(["部长甲", "s0001", "", "ZZB", "部长", "正式党员", "", "", "", ""])
        n = 0
        for b in range(1, branches + 1):
            for m in range(members_per_branch):
                n += 1
                mobile = bool(mobile_every) and n % mobile_every == 0
                w.writerow([f"党员{b}-{m}", member_userid(b, m, bw), "", f"ZB{b:0{bw}d}",
                            "书记" if m == 0 else "党员", "正式党员", "是" if mobile else "",
                            "广州" if mobile else "", "", "2000-07-01"])


def member_userid(branch: int, member: int, width: int = 5) -> str:
    """The generated WeCom id of member `member` of branch number `branch`."""
    return f"u{branch:0{width}d}{member:02d}"


def prepare_county(tmp: str, branches: int, name: str, **county) -> str:
    """A SQLite database of a generated county (`county`: write_county's
    options) and the 2027 plan; its URL."""
    import os
    write_county(Path(tmp) / "county", branches, **county)
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
