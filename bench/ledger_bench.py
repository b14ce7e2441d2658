"""Ledger export for 1,000 branches × 12 months: generates a year of
reports (with corrections and evidence), meetings and check-ins, then times
the export (queries + .xlsx) in its own process.

    .venv/bin/python bench/ledger_bench.py [--branches 1000]

Goal (issue 7): ≤ 3 s on the 2-core machine."""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, prepare_county  # noqa: E402

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from datetime import date
from bot.exports.ledger import write_ledger
from storage.orgs import active_branches
from storage.db import make_engine, session_factory
from storage.ledger import build_ledgers
from storage.month import Month
sessions = session_factory(make_engine(sys.argv[2]))
t0 = time.perf_counter()
with sessions() as s:
    ledgers = build_ledgers(s, active_branches(s), Month(2027, 1), Month(2027, 12), date(2028, 1, 15))
t_query = time.perf_counter() - t0
write_ledger(ledgers, sys.argv[3], "bench")
total = time.perf_counter() - t0
from handlers.render.ledger import ledger_rows  # counted after the clock stops
print(json.dumps({"query_s": t_query, "total_s": total, "rows": sum(len(ledger_rows(l)) for l in ledgers),
                  "sheets": len(ledgers) + 1, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def fill_year(db: str) -> None:
    """A year of activity, inserted in bulk."""
    from sqlalchemy import insert, select

    from storage.db import make_engine
    from storage.models import CheckIn, Evidence, Meeting, Member, Organization, Report, Task
    from storage.orgs import targets
    engine, rng = make_engine(db), random.Random(7)
    with engine.begin() as conn:
        branches = conn.execute(select(Organization).where(Organization.type == "党支部")).all()
        tasks = conn.execute(select(Task).where(Task.month.like("2027-%"))).all()
        secretaries = dict(conn.execute(select(Member.org_id, Member.id).where(Member.role == "书记")).all())
        reports, meetings, checkins = [], [], []
        for b in branches:
            who = secretaries[b.id]
            for t in tasks:
                if targets(t, b) and rng.random() < 0.9:
                    at = datetime.combine(t.deadline, datetime.min.time()) - timedelta(days=rng.randint(-3, 10), hours=-9)
                    reports.append({"task_id": t.id, "branch_id": b.id, "member_id": who, "kind": "done",
                                    "note": "已按要求完成，到会党员9人，形成会议记录", "received_at": at})
            for month in range(1, 13):
                for kind in ("支委会", "党小组会", "主题党日"):
                    held = date(2027, month, rng.randint(1, 28))
                    meetings.append({"branch_id": b.id, "kind": kind, "held_on": held, "attended": 7,
                                     "expected": 9, "note": "", "member_id": who,
                                     "received_at": datetime.combine(held, datetime.min.time()) + timedelta(days=rng.choice([0, 1, 9]))})
                checkins.append({"member_id": who, "day": date(2027, month, 5), "note": "", "received_at": datetime(2027, month, 5, 9)})
        conn.execute(insert(Report.__table__), reports)
        ids = conn.execute(select(Report.id)).scalars().all()
        conn.execute(insert(Evidence.__table__), [{"report_id": i, "media_id": f"m{i}", "kind": "image",
                                                   "file_name": f"照片{i}.jpg", "sha256": "ab" * 32,
                                                   "received_at": datetime(2027, 1, 1)} for i in ids[::4]])
        conn.execute(insert(Meeting.__table__), meetings)
        conn.execute(Member.__table__.update().values(is_mobile=True))
        conn.execute(insert(CheckIn.__table__), checkins)
    print(f"generated {len(reports):,} reports, {len(meetings):,} meetings, {len(checkins):,} check-ins")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--branches", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = prepare_county(tmp, args.branches, "ledger")
        fill_year(db)
        out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), db, f"{tmp}/ledger.xlsx"],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        size = Path(f"{tmp}/ledger.xlsx").stat().st_size / 1e6
    print(f"branches × months:   {args.branches:,} × 12")
    print(f"ledger rows:         {r['rows']:,} in {r['sheets']:,} sheets ({size:.1f} MB)")
    print(f"queries:             {r['query_s']:.2f} s")
    print(f"total (with .xlsx):  {r['total_s']:.2f} s")
    print(f"peak RSS:            {r['rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
