"""What the registers (issue 14) add to the workbench's overview: the lists
of branches with no new member in 3 years, under rectification, past their
term, without a 书记 — for the org department (every branch: read whole)
and for one committee (its branches named) — beside the overview's own
completion figures for the same scope, measured in the same run, and the
ratio. Also 任务's TaskBook for one branch with 100 open rectification
items in the county, beside the same book before them.

    .venv/bin/python bench/registers_bench.py [--branches 2000] [--members 20] [--runs 7]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import prepare_county  # noqa: E402

TODAY = date(2027, 3, 25)


def best(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--branches", type=int, default=2000)
    parser.add_argument("--members", type=int, default=20, help="members a branch")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    from sqlalchemy import func, select

    from bot.web.workbench.overview import registers
    from storage.db import make_engine, transaction  # noqa: I001
    from storage.models import Member, Organization
    from storage.month import Month
    from storage.orgs import active_branches, branches_under
    from storage.rectification import add_item
    from storage.tasks import _YEAR_TASKS, TaskBook
    from storage.workbench import completion
    from sqlalchemy.orm import sessionmaker
    with tempfile.TemporaryDirectory() as tmp:
        db = prepare_county(tmp, args.branches, "registers", members_per_branch=args.members,
                            committees=max(1, args.branches // 1000))
        engine = make_engine(db)
        sessions = sessionmaker(engine, expire_on_commit=False)
        with sessions() as s:
            members = s.scalar(select(func.count(Member.id)))
            everyone = active_branches(s)
            committee = s.scalar(select(Organization).where(Organization.type == "党委").order_by(Organization.id))
            theirs = branches_under(s, committee)
            month = Month.of(TODAY)
            bare = best(lambda: s.connection().execute(_YEAR_TASKS, {"first": "2027-01", "last": "2027-03"}).all(),
                        args.runs)
            before = best(lambda: TaskBook(s, month, [everyone[0]]).this_month(everyone[0]), args.runs)
        print(f"{len(everyone):,} branches, {members:,} members; a committee of {len(theirs):,} branches")
        for label, scope in (("org department", everyone), ("one committee", theirs)):
            with sessions() as s:
                floor = best(lambda: completion(s, scope, month, month, TODAY), args.runs)
                lists = best(lambda: registers(s, scope, TODAY), args.runs)
            print(f"{label:15s} overview completion {floor[0] * 1000:7.1f} ms (median {floor[1] * 1000:.1f}); "
                  f"registers' lists {lists[0] * 1000:7.1f} ms (median {lists[1] * 1000:.1f}): "
                  f"{lists[0] / floor[0]:.2f}× the completion figures")
        with transaction(sessions) as s:
            for i, branch in enumerate(everyone[:100]):
                add_item(s, branch, f"整改事项{i}", date(2027, 4, 30), issuer="组织部", issuer_org_id=None,
                         member_id=None, natural_key=f"bench:rect:{i}", evidence="", month=str(month),
                         now=datetime(2027, 3, 1, 9))
        with sessions() as s:
            after = best(lambda: TaskBook(s, month, [everyone[0]]).rectification(everyone[0]), args.runs)
        print(f"任务's TaskBook for one branch: {before[0] * 1000:.2f} ms with no item, {after[0] * 1000:.2f} ms "
              f"with 100 open items in the county; the bare query of the year's tasks {bare[0] * 1000:.2f} ms: "
              f"{before[0] / bare[0]:.1f}× and {after[0] / bare[0]:.1f}×")


if __name__ == "__main__":
    main()
