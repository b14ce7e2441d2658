"""Roster import at county-and-more scale: generates a 100,000-member roster
(.xlsx, 2,000 branches), imports it into a fresh SQLite database in a child
process, and prints the parse time, the total import time and peak RSS.

    .venv/bin/python bench/import_bench.py [--members 100000]

Goal (issue 4): total ≤ 5 s and ≤ 300 MB on the 2-core machine."""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from bot.clock import Clock
from storage.db import make_engine, session_factory, transaction, upgrade
from storage.importers.roster_check import check_roster
from storage.importers.roster_import import import_roster
from storage.importers.roster_read import read_roster
path, url, mode = sys.argv[2], sys.argv[3], sys.argv[4]
engine = make_engine(url); upgrade(engine)
t0 = time.perf_counter()
if mode == "parse":
    check_roster(read_roster(path)); added = 0
else:
    with transaction(session_factory(engine)) as s:
        added = import_roster(s, path, Clock().now())["members"].added
print(json.dumps({"seconds": time.perf_counter() - t0, "added": added,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def generate(path: Path, members: int, branches: int) -> None:
    from openpyxl import Workbook
    rng = random.Random(7)
    book = Workbook(write_only=True)
    orgs = book.create_sheet("组织")
    orgs.append(["组织编码", "组织名称", "组织类别", "上级组织编码", "领域", "群机器人key", "应用群聊chatid"])
    orgs.append(["ZZB", "某县委组织部", "组织部", "", "", "", ""])
    for d in range(1, 21):
        orgs.append([f"DW{d:02d}", f"第{d}党委", "党委", "ZZB", "", "", ""])
    cats = ["农村", "社区", "机关", "国企", "非公企业", "学校"]
    for b in range(1, branches + 1):
        orgs.append([f"ZB{b:05d}", f"第{b}党支部", "党支部", f"DW{b % 20 + 1:02d}",
                     cats[b % 6], f"robot-{b}", ""])
    sheet = book.create_sheet("党员")
    sheet.append(["姓名", "企业微信账号", "手机号", "所在支部编码", "职务", "党员类别",
                  "流动党员", "流入地", "离退休", "入党日期"])
    surnames, given = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗", "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚"
    for m in range(members):
        mobile = rng.random() < 0.08
        sheet.append([rng.choice(surnames) + rng.choice(given) + rng.choice(given), f"u{m:07d}",
                      f"139{m:08d}", f"ZB{m % branches + 1:05d}", "书记" if m < branches else "党员",
                      "正式党员", "是" if mobile else "", "广州" if mobile else "",
                      "是" if rng.random() < 0.1 else "",
                      f"{rng.randint(1960, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"])
    book.save(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--branches", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "roster.xlsx"
        t0 = time.perf_counter()
        generate(path, args.members, args.branches)
        print(f"generated {args.members:,} members / {args.branches:,} branches "
              f"in {time.perf_counter() - t0:.1f} s ({path.stat().st_size / 1e6:.1f} MB)")
        parse = child(path, f"sqlite:///{tmp}/parse.db", "parse")
        total = child(path, f"sqlite:///{tmp}/bench.db", "import")
        print(f"parse+check (read only):   {parse['seconds']:.2f} s")
        print(f"import total (read+write): {total['seconds']:.2f} s   "
              f"(write ≈ {total['seconds'] - parse['seconds']:.2f} s)")
        print(f"peak RSS of the import:    {total['rss_mb']:.0f} MB")
        print(f"members added:             {total['added']:,}")


def child(path: Path, url: str, mode: str) -> dict:
    """Each measurement in its own process, so RSS is the import's alone."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(path), url, mode],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
