"""锋领考评 at county scale: a generated county of 100,000 members (2,000
branches of 50), a quarter of records — two meetings a month per branch
with every member on the roll (one of them the 主题党日), study, volunteer
hours, mobile members' check-ins, staff-entered appraisals — in SQLite;
then, each the best of a few runs on a warm database:

- bare: the statements that gather the radar's inputs (member_stats'
  grouped queries, the roster, the appraisals), executed and fetched, no
  Python work on the rows;
- radar: `storage.radar.radar` — the same queries plus every member's six
  scores (the PNGs and the workbook are not part of it).

    .venv/bin/python bench/radar_bench.py [--branches 2000] [--per-branch 50]

Goal (issue 12): radar ≤ 3 × bare."""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import write_county  # noqa: E402

QUARTER = "2027Q1"


def populate(url: str, seed: int = 12) -> dict[str, int]:
    """A quarter of records for every member; row counts by table."""
    from sqlalchemy import insert, select

    from storage.db import make_engine
    from storage.models import (ABSENT, EXCUSED, PRESENT, Appraisal, Attendance, CheckIn, Meeting, Member,
                                Organization, Study, Volunteer)
    rng = random.Random(seed)
    engine = make_engine(url)
    now = datetime(2027, 4, 1, 9)
    counts = dict.fromkeys(("meetings", "attendance", "study", "volunteer", "checkins", "appraisals"), 0)
    with engine.begin() as conn:
        members: dict[int, list[int]] = {}
        for member_id, org_id in conn.execute(select(Member.id, Member.org_id).join(
                Organization, Member.org_id == Organization.id).where(Organization.type == "党支部")):
            members.setdefault(org_id, []).append(member_id)
        meetings, next_id = [], 1
        roll = []
        for org_id, people in members.items():
            for month in (1, 2, 3):
                for kind, day in (("主题党日", 15), ("党小组会", 8)):
                    meetings.append({"id": next_id, "branch_id": org_id, "kind": kind,
                                     "held_on": date(2027, month, day), "attended": len(people),
                                     "expected": len(people), "note": "", "received_at": now})
                    for person in people:
                        r = rng.random()
                        roll.append({"meeting_id": next_id, "member_id": person,
                                     "status": PRESENT if r < 0.85 else ABSENT if r < 0.95 else EXCUSED})
                    next_id += 1
        conn.execute(insert(Meeting), meetings)
        conn.execute(insert(Attendance), roll)
        counts["meetings"], counts["attendance"] = len(meetings), len(roll)
        everyone = [m for people in members.values() for m in people]
        start = date(2027, 1, 1)
        study = [{"member_id": m, "day": start + timedelta(days=rng.randrange(90)), "content": "",
                  "received_at": now} for m in everyone for _ in range(rng.randrange(6))]
        volunteer = [{"member_id": m, "day": start + timedelta(days=rng.randrange(90)), "hours": rng.choice((1, 2, 2.5, 4)),
                      "note": "", "community_id": None, "received_at": now}
                     for m in everyone for _ in range(rng.randrange(3))]
        mobile = rng.sample(everyone, len(everyone) // 12)
        checkins = [{"member_id": m, "day": date(2027, month, rng.randint(1, 28)), "note": "",
                     "received_at": now} for m in mobile for month in (1, 2, 3)]
        appraisals = [{"member_id": m, "quarter": QUARTER, "satisfaction": rng.randint(60, 100),
                       "performance": rng.randint(60, 100), "received_at": now} for m in everyone]
        for model, rows, key in ((Study, study, "study"), (Volunteer, volunteer, "volunteer"),
                                 (CheckIn, checkins, "checkins"), (Appraisal, appraisals, "appraisals")):
            conn.execute(insert(model), rows)
            counts[key] = len(rows)
    engine.dispose()
    return counts


def best(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def measure(url: str, runs: int) -> None:
    from storage import radar as radar_store
    from storage.db import make_engine, session_factory
    from storage.month import Quarter
    from storage.people import stats_queries
    from sqlalchemy import select
    from storage.models import Appraisal
    quarter = Quarter.iso(QUARTER)
    engine = make_engine(url)
    sessions = session_factory(engine)
    roster_query = None

    def bare():
        nonlocal roster_query
        with sessions() as s:
            conn = s.connection()
            rows = 0
            for statement in stats_queries(quarter.first_day, quarter.end):
                rows += len(conn.execute(statement).all())
            rows += len(radar_store.roster(s))
            rows += len(conn.execute(select(Appraisal.member_id, Appraisal.satisfaction, Appraisal.performance)
                                     .where(Appraisal.quarter == QUARTER)).all())
            return rows

    def radar():
        with sessions() as s:
            return radar_store.radar(s, quarter)

    bare()  # warm the page cache and the statement cache alike
    t_bare, rows = best(bare, runs)
    t_radar, scores = best(radar, runs)
    ratio = t_radar / t_bare
    print(f"bare input queries: {t_bare:6.2f} s   ({rows:,} rows fetched)")
    print(f"radar scores:       {t_radar:6.2f} s   ({len(scores):,} members, six dimensions each)")
    print(f"ratio:              {ratio:6.2f} ×   (goal ≤ 3 ×) {'OK' if ratio <= 3 else 'TOO SLOW'}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--branches", type=int, default=2_000)
    parser.add_argument("--per-branch", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_county(Path(tmp) / "county", args.branches, args.per_branch)
        url = f"sqlite:///{tmp}/radar.db"
        env = {**os.environ, "ZHIBU_DATABASE__URL": url, "ZHIBU_CONFIG": os.devnull, "ZHIBU_LOG__LEVEL": "WARNING"}
        subprocess.run([sys.executable, "-m", "bot", "import-roster", f"{tmp}/county"], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        counts = populate(url)
        print(f"generated {args.branches * args.per_branch:,} members in {args.branches:,} branches and a quarter "
              f"of records in {time.perf_counter() - t0:.0f} s: "
              + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        measure(url, args.runs)


if __name__ == "__main__":
    main()
