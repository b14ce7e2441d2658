"""Province scale on PostgreSQL: 50,000 branches / 1,000,000 members (50
committees of 1,000 branches, 20 members a branch, every 12th mobile) on a
throw-away server started as tests/db_servers.py does. Each measurement
runs in its own process, which reports its time and peak RSS:

1. roster import, fresh and re-imported unchanged, at three sizes below the
   province: a one-transaction import holds the whole roster in memory
   (≈ 2 KB a member: 1,000,000 members would pass this bench's 2 GB), so
   the province's figure is derived from the line through them; the
   province itself is loaded as its orgs + secretaries through the importer
   and the other members by COPY (the importer's rows, field for field);
2. a year of activity (the model is printed), committee by committee, by
   COPY; after 1, 5, 10, 25 and 50 committees, the ledger of one committee
   (1,000 branches × 12 months, as `ledger -o` writes it) and the
   workbench's overview and task matrix as that committee's staff member
   gets them (whole pages, signed in) — to show how each grows with the
   province rather than with the committee — each until the line through
   its points says the next one would pass the memory cap;
3. the monthly push for every branch: December's sheets (the year's task
   states read) rendered and queued, then March's rendered, queued
   (bot/schedule/pushes/monthly_sheet.py + storage.outbox.enqueue) and sent
   to the loopback WeCom stand-in by the delivery worker;
4. encrypted 签到 / 任务 callbacks from members of the million at `serve`;
5. disk: every table's rows and bytes (indexes included).
Then the figures per branch and per member, and what they make of a
province of 200,000 branches / 4,000,000 members — each line says whether
it was measured here or derived (and from what).

Sheets measured in step 3 are queued under the purpose "bench-monthly-
sheet", so they never collide with the year of history already in the
outbox; the rows are the same size.


    .venv/bin/python bench/province_bench.py                 # ≈ 15-20 minutes, < 2 GB per process
    .venv/bin/python bench/province_bench.py --branches 5000 --committees 5 --import-sizes 20000,50000

Every process is watched: one that passes --cap-mb (default 1,900) is
killed, and the bench says so instead of printing a figure. Each figure
carries the box's highest 1-minute load average while it was taken: other
work on the machine slows what is measured."""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, free_port, member_userid, start_standin, write_county  # noqa: E402

PER_BRANCH = 20          # members a branch (1 secretary + 19)
MOBILE_EVERY = 12        # every 12th member is a mobile member (≈ 8 %)
REPORTED = 0.9           # share of a branch's tasks it reports
CORRECTED = 0.1          # share of reports corrected once (更正)
EVIDENCE_EVERY = 4       # one report in 4 has a photo
NOW = datetime(2026, 12, 20, 10, 0)
YEAR = 2027
PG_SETTINGS = ("fsync=on", "shared_buffers=256MB", "max_wal_size=4GB")
PROVINCE_BRANCHES, PROVINCE_MEMBERS = 200_000, 4_000_000
BENCH_PURPOSE = "bench-monthly-sheet"
STAFF, PASSWORD = "s0101", "bench-password-1"  # the first committee's 干事, who opens the workbench


# ---------------------------------------------------------------- children
# Each runs as `province_bench.py --child NAME JSON` and prints one JSON line.

def _engine(url: str):
    from storage.db import make_engine
    return make_engine(url)


def child_import(a: dict) -> dict:
    from storage.db import session_factory, transaction, upgrade
    from storage.importers.roster_import import import_roster
    engine = _engine(a["url"])
    upgrade(engine)
    t0 = time.perf_counter()
    with transaction(session_factory(engine)) as s:
        r = import_roster(s, a["folder"], NOW)
    return {"seconds": time.perf_counter() - t0, "added": r["members"].added,
            "unchanged": r["members"].unchanged}


def child_load(a: dict) -> dict:
    """The province: orgs + secretaries through the importer, both plans,
    then every other member by COPY (the importer's own rows, field for field)."""
    from sqlalchemy import select
    from storage.db import session_factory, transaction, upgrade
    from storage.importers.plan_import import import_plan
    from storage.importers.roster_import import import_roster
    from storage.models import Organization
    engine = _engine(a["url"])
    upgrade(engine)
    sessions = session_factory(engine)
    t0 = time.perf_counter()
    with transaction(sessions) as s:
        r = import_roster(s, a["folder"], NOW)
    t_import = time.perf_counter() - t0
    with transaction(sessions) as s:
        for plan in ("plan-2026.yaml", "plan-2027.yaml"):
            import_plan(s, ROOT / "examples" / plan, NOW)
    with sessions() as s:
        org_ids = dict(s.execute(select(Organization.code, Organization.id)).all())
    branches, per, width = a["branches"], a["per_branch"], a["width"]
    t1 = time.perf_counter()
    raw = engine.raw_connection()
    try:
        with raw.driver_connection.cursor() as cur, cur.copy(
                "COPY members (name, roster_key, wecom_userid, org_id, role, status, is_mobile, "
                "inflow_city, retired, joined_on, active, received_at, updated_at) FROM STDIN") as copy:
            joined = date(2000, 7, 1)
            for b in range(1, branches + 1):
                org = org_ids[f"ZB{b:0{width}d}"]
                for m in range(1, per):
                    n = (b - 1) * per + m + 1  # write_county's count (its first row is the minister)
                    mobile = n % MOBILE_EVERY == 0
                    uid = member_userid(b, m, width)
                    copy.write_row((f"党员{b}-{m}", f"wx:{uid}", uid, org, "党员", "正式党员", mobile,
                                    "广州" if mobile else None, False, joined, True, NOW, NOW))
        raw.commit()
    finally:
        raw.close()
    return {"import_seconds": t_import, "orgs": r["orgs"].added, "imported_members": r["members"].added,
            "copied_members": branches * (per - 1), "copy_seconds": time.perf_counter() - t1}


def child_fill(a: dict) -> dict:
    """A year of activity for the given committees, by COPY (model: module constants)."""
    from sqlalchemy import func, select
    from bot.schedule.pushes import monthly_sheet
    from storage.db import session_factory
    from storage.models import (Assignment, Attendance, CheckIn, Delivery, Evidence, InboundMessage, Meeting,
                                Member, Organization, Report, Task)
    from storage.orgs import targets
    engine = _engine(a["url"])
    sessions = session_factory(engine)
    tables = (InboundMessage, Report, Evidence, Assignment, Meeting, Attendance, CheckIn, Delivery)
    with sessions() as s:
        next_id = {t.__tablename__: (s.scalar(select(func.max(t.id))) or 0) + 1 for t in tables}
        tasks = s.execute(select(Task.__table__).where(Task.month.like(f"{YEAR}-%"))
                          .order_by(Task.month, Task.number)).all()
        # One real sheet per 领域 and month (owing nothing): the bodies' sizes are the push's.
        reps = {}
        for b in s.scalars(select(Organization).where(Organization.type == "党支部").limit(12)):
            reps.setdefault(b.category, b)
        bodies = {}
        for month in range(1, 13):
            period = f"{YEAR}-{month:02d}"
            for m in monthly_sheet.messages(s, date(YEAR, month, 1), period, [b.code for b in reps.values()]):
                bodies[(m.audience, period)] = m.body
        rep_of = {cat: (f"org:{b.code}", b.name) for cat, b in reps.items()}
    raw = engine.raw_connection()
    pg = raw.driver_connection
    # Loading, not measuring: the rows are consistent by construction, so the
    # foreign-key triggers are skipped (superuser's replica mode) — 2-3x faster.
    pg.execute("SET session_replication_role = replica")
    counts = dict.fromkeys(next_id, 0)
    t0 = time.perf_counter()
    try:
        for committee in a["committees"]:
            with sessions() as s:
                parent = s.scalar(select(Organization.id).where(Organization.code == committee))
                branches = s.execute(select(Organization.id, Organization.code, Organization.name,
                                            Organization.category).where(Organization.parent_id == parent)
                                     .order_by(Organization.id)).all()
                ids = [b.id for b in branches]
                secretary = dict(s.execute(select(Member.org_id, Member.id)
                                           .where(Member.org_id.in_(ids), Member.role == "书记")).all())
                mobiles: dict[int, list] = {}
                people: dict[int, list[int]] = {}
                for m in s.execute(select(Member.id, Member.org_id, Member.wecom_userid, Member.is_mobile)
                                   .where(Member.org_id.in_(ids))):
                    people.setdefault(m.org_id, []).append(m.id)
                    if m.is_mobile:
                        mobiles.setdefault(m.org_id, []).append(m)
            for start in range(0, len(branches), 250):
                rows = {name: [] for name in next_id}
                for b in branches[start:start + 250]:
                    _branch_year(b, tasks, secretary[b.id], people[b.id], mobiles.get(b.id, []), next_id, rows,
                                 bodies, rep_of, targets)
                with pg.cursor() as cur:
                    for table in tables:
                        name = table.__tablename__
                        if not rows[name]:
                            continue
                        columns = list(rows[name][0])
                        with cur.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                            for row in rows[name]:
                                copy.write_row(tuple(row.values()))
                        counts[name] += len(rows[name])
                pg.commit()
        with pg.cursor() as cur:
            for name, value in next_id.items():  # the app's own inserts come after ours
                cur.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", (name, max(value - 1, 1)))
            cur.execute("ANALYZE")
        pg.commit()
    finally:
        raw.close()
    return {"rows": counts, "seconds": time.perf_counter() - t0}


def _branch_year(b, tasks, secretary: int, people: list[int], mobiles: list, next_id: dict, rows: dict, bodies: dict,
                 rep_of: dict, targets) -> None:
    rng = random.Random(b.id)

    def new_id(table: str) -> int:
        next_id[table] += 1
        return next_id[table] - 1

    def inbound(user: str, kind: str, content: str, at: datetime, media: str | None = None) -> int:
        i = new_id("inbound_messages")
        rows["inbound_messages"].append({
            "id": i, "dedupe_key": f"app:msg:{7_000_000_000_000_000_000 + i}", "channel": "app",
            "wecom_userid": user, "msg_type": kind, "content": content, "media_id": media,
            "outcome": "ok", "received_at": at})
        return i

    user = f"u{b.code[2:]}00"  # the secretary (member 0)
    unreported = 0
    for t in tasks:
        if not targets(t, b):
            continue
        asked = datetime.combine(t.deadline, datetime.min.time()) - timedelta(days=rng.randint(-3, 12), hours=-9)
        inbound(user, "text", "任务", asked)
        if rng.random() >= REPORTED:
            unreported += 1
            continue
        at = asked + timedelta(hours=rng.randint(1, 30))
        note = "已按要求完成，到会党员9人，形成会议记录"
        report = {"id": new_id("reports"), "task_id": t.id, "branch_id": b.id, "member_id": secretary,
                  "kind": "done", "note": note, "superseded_by": None,
                  "inbound_id": inbound(user, "text", f"完成 {t.number} {note}", at), "received_at": at}
        current = report
        if rng.random() < CORRECTED:
            fix_at = at + timedelta(days=1)
            fix = {**report, "id": new_id("reports"), "kind": "correction", "note": "更正：到会党员8人",
                   "inbound_id": inbound(user, "text", f"更正 {t.number} 更正：到会党员8人", fix_at),
                   "received_at": fix_at}
            rows["reports"].append(fix)
            report["superseded_by"], current = fix["id"], fix
        rows["reports"].append(report)
        if report["id"] % EVIDENCE_EVERY == 0:
            media, sent_at = f"3{report['id']:020d}abcdefghijklmnopqrstuvwxyz0123456789ABCDEF", at + timedelta(minutes=2)
            inbound(user, "image", "", sent_at, media)
            rows["evidence"].append({
                "id": new_id("evidence"), "report_id": report["id"], "media_id": media, "kind": "image",
                "file_name": f"{b.code}-{t.number}.jpg", "sha256": "ab" * 32,
                "path": f"data/media/{YEAR}/{b.code}/{report['id']}.jpg", "size": 1_800_000,
                "last_error": None, "received_at": sent_at})
        rows["assignments"].append({  # with the cell's sums storage/reports.py keeps (the matrix reads them)
            "id": new_id("assignments"), "task_id": t.id, "branch_id": b.id, "state": "reported",
            "return_reason": None, "reported_at": current["received_at"], "first_reported_at": at,
            "note": current["note"][:60], "evidence_count": int(report["id"] % EVIDENCE_EVERY == 0),
            "corrections": int(current is not report), "submissions": 1, "received_at": at,
            "updated_at": current["received_at"]})
    for month in range(1, 13):
        kinds = ["支委会", "党小组会", "主题党日"] + (["党员大会", "党课"] if month % 3 == 0 else [])
        for kind in kinds:
            held = date(YEAR, month, rng.randint(1, 28))
            at = datetime.combine(held, datetime.min.time()) + timedelta(days=rng.choice([0, 0, 1, 9]), hours=20)
            roll = people if kind in ("主题党日", "党员大会") else [secretary] if kind == "支委会" else []
            absent = {p for p in roll if rng.random() < 0.1}
            text = f"会议 {kind} {held} 出席 {len(roll) - len(absent)}/{len(roll)} 按计划召开"
            inbound(user, "text", text, at)
            meeting = new_id("meetings")
            rows["meetings"].append({"id": meeting, "branch_id": b.id, "kind": kind, "held_on": held,
                                     "attended": len(roll) - len(absent) if roll else 7,
                                     "expected": len(roll) or 9, "note": "按计划召开", "member_id": secretary,
                                     "received_at": at})
            for person in roll:  # the roll (storage/meetings.py roll_of): everyone, or the committee
                rows["attendance"].append({"id": new_id("attendance"), "meeting_id": meeting, "member_id": person,
                                           "status": "absent" if person in absent else "present"})
        for m in mobiles:
            day = date(YEAR, month, rng.randint(1, 25))
            at = datetime.combine(day, datetime.min.time()) + timedelta(hours=rng.randint(8, 21))
            located = rng.random() < 0.5
            inbound(m.wecom_userid, "location" if located else "text", "" if located else "签到", at)
            rows["checkins"].append({"id": new_id("checkins"), "member_id": m.id, "day": day, "note": "",
                                     "latitude": 23.129163 if located else None,
                                     "longitude": 113.264435 if located else None,
                                     "label": "广东省广州市天河区" if located else None, "received_at": at})
            _sent(rows, new_id, f"member:{m.wecom_userid}", "checkin-reminder", f"{YEAR}-{month:02d}",
                  "本月尚未签到：请发送“签到”或发送位置完成流动党员报到。", "wecom_user", m.wecom_userid,
                  datetime(YEAR, month, 20, 9, 5))
        period = f"{YEAR}-{month:02d}"
        rep_target, rep_name = rep_of[b.category]
        _sent(rows, new_id, f"org:{b.code}", "monthly-sheet", period,
              bodies[(rep_target, period)].replace(rep_name, b.name, 1), "wecom_robot", f"robot-{b.code[2:]}",
              datetime(YEAR, month, 1, 9, 5))
    for n in range(unreported):  # reminders 3 days and 1 day before, then the overdue notice
        for purpose in ("remind-3d", "remind-1d", "overdue"):
            _sent(rows, new_id, f"org:{b.code}", purpose, f"task-{n}",
                  "**提醒**：第3项「核对全国党员管理信息系统党员信息」将于 3月25日 截止，本支部尚未上报。"
                  "完成后请回复：完成 3 说明", "wecom_robot", f"robot-{b.code[2:]}", NOW)


def _sent(rows, new_id, target, purpose, period, body, channel, address, at) -> None:
    rows["deliveries"].append({
        "id": new_id("deliveries"), "target": target, "purpose": purpose, "period": period, "channel": channel,
        "address": address, "body": body, "state": "sent", "attempts": 1, "due_at": at,
        "claimed_by": "app1:4242:deliver-1a2b3c", "claimed_at": at, "sent_at": at + timedelta(seconds=1),
        "last_error": None, "received_at": at})


def child_ledger(a: dict) -> dict:
    from sqlalchemy import select
    from bot.exports.ledger import write_ledger
    from storage.db import session_factory
    from storage.ledger import build_ledgers
    from storage.models import Organization
    from storage.month import Month
    from storage.orgs import branches_under
    sessions = session_factory(_engine(a["url"]))
    t0 = time.perf_counter()
    with sessions() as s:
        committee = s.scalar(select(Organization).where(Organization.code == a["committee"]))
        branches = branches_under(s, committee)
        ledgers = build_ledgers(s, branches, Month(YEAR, 1), Month(YEAR, 12), date(YEAR + 1, 1, 15))
    t_query = time.perf_counter() - t0
    write_ledger(ledgers, a["path"], "bench")
    return {"branches": len(branches), "query_seconds": t_query, "seconds": time.perf_counter() - t0,
            "mb": Path(a["path"]).stat().st_size / 1e6}


def child_page(a: dict) -> dict:
    """One workbench page as the committee's staff member gets it (signed in
    through the real form): the first view, then a second (templates warm)."""
    from zoneinfo import ZoneInfo
    from bot.clock import FrozenClock
    from bot.config import load_config
    from bot.runtime import Runtime
    from bot.web import create_app
    from bot.web.workbench.passwords import hash_password
    from storage.accounts import holder_by_userid, open_account
    from storage.db import transaction
    from tests.workbench import Client
    config = load_config(environ={}, use_file=False, overrides={"database.url": a["url"], "log.level": "WARNING"})
    runtime = Runtime.from_config(config, FrozenClock(datetime(YEAR, 12, 20, 10, 17), ZoneInfo("Asia/Shanghai")))
    with transaction(runtime.sessions) as s:
        member, _unit, _account = holder_by_userid(s, STAFF)
        open_account(s, member, hash_password(PASSWORD), NOW)
    client = Client(create_app(runtime=runtime), STAFF, PASSWORD)
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        page = client.get(a["path"])
        times.append(time.perf_counter() - t0)
        assert page.status_code == 200, (page.status_code, page.get_data(as_text=True)[:300])
    return {"first_seconds": times[0], "seconds": times[1], "kb": len(page.get_data()) / 1024}


def child_push(a: dict) -> dict:
    from bot.config import load_config
    from bot.runtime import Runtime
    from bot.schedule.pushes import monthly_sheet
    from storage.db import transaction
    from storage.outbox import Message, enqueue
    runtime = Runtime.from_config(load_config(use_file=False, environ={}, overrides={
        "database.url": a["url"], "wecom.api_base": a.get("api_base") or "http://127.0.0.1:9/cgi-bin/",
        "wecom.corp_id": "wwbench", "wecom.secret": "s", "wecom.agent_id": 1,
        "scheduler.quiet_start": "23:59", "scheduler.quiet_end": "00:00", "log.level": "WARNING"}))
    t0 = time.perf_counter()
    with transaction(runtime.sessions) as s:
        messages = monthly_sheet.messages(s, date.fromisoformat(a["today"]), a["period"])
        t_render = time.perf_counter() - t0
        body_bytes = sum(len(m.body.encode()) for m in messages)
        queued = enqueue(s, [Message(m.audience, BENCH_PURPOSE, m.period, m.body) for m in messages],
                         runtime.clock.now())
    out = {"sheets": len(messages), "queued": queued, "render_seconds": t_render,
           "queue_seconds": time.perf_counter() - t0, "body_bytes": body_bytes}
    if a.get("send"):
        from bot.outbound.worker import DeliveryWorker
        t1 = time.perf_counter()
        out["sent"] = DeliveryWorker(runtime, threads=16, batch=500).drain()
        out["send_seconds"] = time.perf_counter() - t1
    return out


def child_base(a: dict) -> dict:
    """What a push process weighs before it reads anything: the floor under the push's peak."""
    from bot.outbound.worker import DeliveryWorker  # noqa: F401
    from bot.schedule.pushes import monthly_sheet  # noqa: F401
    from sqlalchemy import text
    with _engine(a["url"]).connect() as c:
        c.execute(text("SELECT 1"))
    return {}


CHILDREN = {"base": child_base, "import": child_import, "load": child_load, "fill": child_fill, "ledger": child_ledger,
            "page": child_page,
            "push": child_push}


def run_child_main(name: str, args: str) -> None:
    import resource
    result = CHILDREN[name](json.loads(args))
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result, default=str))


# ------------------------------------------------------------------ parent

class Capped(Exception):
    """A child passed the memory cap and was killed."""


RUNNING: list[subprocess.Popen] = []  # the child being waited for, to stop with the bench


def child(name: str, cap_mb: int, **args) -> dict:
    """Run one measurement in its own process; a watchdog kills it past `cap_mb` of RSS."""
    proc = subprocess.Popen([sys.executable, __file__, "--child", name, json.dumps(args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "ZHIBU_CONFIG": os.devnull})
    peak, load = 0.0, 0.0
    RUNNING[:] = [proc]
    while proc.poll() is None:
        peak, load = max(peak, _rss_mb(proc.pid)), max(load, os.getloadavg()[0])
        if peak > cap_mb:
            proc.kill()
            proc.communicate()
            raise Capped(f"{name}: killed at {peak:.0f} MB (cap {cap_mb} MB)")
        time.sleep(0.05)
    out, err = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"{name} failed:\n{err[-3000:]}")
    return {**json.loads(out.strip().splitlines()[-1]), "load": load}


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares line (intercept, slope) through (x, y) points."""
    n = len(points)
    mx, my = sum(p[0] for p in points) / n, sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    slope = sum((p[0] - mx) * (p[1] - my) for p in points) / sxx if sxx else 0.0
    return my - slope * mx, slope


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, tag: str, text: str) -> None:
        line = f"[{tag:8s}] {text}" if tag else text
        self.lines.append(line)
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--branches", type=int, default=50_000)
    parser.add_argument("--committees", type=int, default=50, help="of equal size; the ledger is for one")
    parser.add_argument("--import-sizes", default="100000,250000,500000", help="members, for the import's line")
    parser.add_argument("--checkpoints", default="1,5,10,25,50", help="committees filled before each measure")
    parser.add_argument("--callbacks", type=int, default=6000, help="full-speed callbacks (0: skip)")
    parser.add_argument("--cap-mb", type=int, default=1900)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return run_child_main(*args.child)
    # Stopped from outside (SIGTERM): still stop our PostgreSQL and children, and remove the files.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from tests.db_servers import PostgresServer
    say, cap = Report(), args.cap_mb
    branches, committees = args.branches, args.committees
    members = branches * PER_BRANCH + 1
    width = max(5, len(str(branches)))
    checkpoints = sorted({min(int(c), committees) for c in args.checkpoints.split(",")} | {committees})
    started = time.perf_counter()
    pg = PostgresServer()
    base = pg.start(*PG_SETTINGS)
    from sqlalchemy import create_engine, text
    admin = create_engine(base, isolation_level="AUTOCOMMIT")

    def database(name: str) -> str:
        with admin.connect() as c:
            c.execute(text(f"CREATE DATABASE {name}"))
        return base.rsplit("/", 1)[0] + f"/{name}"

    with admin.connect() as c:
        version = c.execute(text("SHOW server_version")).scalar()
    say("", f"PostgreSQL {version} ({', '.join(PG_SETTINGS)}), {os.cpu_count()} cores "
            f"(load average now {os.getloadavg()[0]:.1f}: other work on the box slows what follows); "
            f"province here: {branches:,} branches in {committees} committees, {members:,} members "
            f"({PER_BRANCH} a branch, every {MOBILE_EVERY}th mobile)")
    results: dict = {"branches": branches, "members": members, "committees": committees}
    tmp = Path(tempfile.mkdtemp(prefix="zhibu-province-"))
    standin = None
    try:
        # 1. the roster import, at sizes that fit the budget
        say("", "\n== roster import (one transaction, storage/importers) ==")
        points = []
        for n in (int(x) for x in args.import_sizes.split(",")):
            b = max(1, n // PER_BRANCH)
            folder = tmp / f"roster-{n}"
            write_county(folder, b, PER_BRANCH, committees=max(1, b // 1000), mobile_every=MOBILE_EVERY)
            url = database(f"import_{n}")
            fresh = child("import", cap, url=url, folder=str(folder))
            again = child("import", cap, url=url, folder=str(folder))
            points.append((fresh["added"], fresh))
            fresh["per_member_ms"] = fresh["seconds"] / fresh["added"] * 1e3
            say("measured", f"{fresh['added']:>9,} members / {b:,} branches: import {fresh['seconds']:.1f} s "
                            f"({fresh['per_member_ms']:.3f} ms a member), "
                            f"peak {fresh['rss_mb']:.0f} MB; unchanged re-import {again['seconds']:.1f} s, "
                            f"{again['rss_mb']:.0f} MB (load ≤ {max(fresh['load'], again['load']):.1f})")
            results.setdefault("import", []).append({"members": fresh["added"], **fresh,
                                                     "reimport_seconds": again["seconds"],
                                                     "reimport_rss_mb": again["rss_mb"]})
        t_fit = fit([(n, r["seconds"]) for n, r in points])
        m_fit = fit([(n, r["rss_mb"]) for n, r in points])
        results["import_fit"] = {"seconds": t_fit, "rss_mb": m_fit}
        say("derived", f"per member: {t_fit[1] * 1e3:.3f} ms and {m_fit[1] * 1024:.2f} KB "
                       f"(+ {t_fit[0]:.1f} s, {m_fit[0]:.0f} MB fixed)")
        for n in (members, PROVINCE_MEMBERS):
            say("derived", f"{n:>9,} members: import ≈ {t_fit[0] + t_fit[1] * n:.0f} s, "
                           f"peak ≈ {(m_fit[0] + m_fit[1] * n) / 1024:.1f} GB (one process, one transaction)")

        # the province: orgs + secretaries by the importer, the rest by COPY
        say("", "\n== the province database ==")
        folder = tmp / "province"
        write_county(folder, branches, 1, committees=committees)
        with (folder / "members.csv").open("a", encoding="utf-8") as f:  # the first committee's staff member
            f.write(f"委员甲,{STAFF},,DW{1:0{max(2, len(str(committees)))}d},干事,正式党员,,,,\n")
        url = database("province")
        load = child("load", cap, url=url, folder=str(folder), branches=branches, per_branch=PER_BRANCH,
                     width=width)
        say("measured", f"{load['orgs']:,} orgs + {load['imported_members']:,} secretaries through the importer: "
                        f"{load['import_seconds']:.1f} s, peak {load['rss_mb']:.0f} MB; "
                        f"{load['copied_members']:,} other members by COPY in {load['copy_seconds']:.1f} s")

        # 2. a year of activity, committee by committee, with measurements at checkpoints
        say("", f"\n== a year of activity ({YEAR}), and what grows with it ==")
        say("model", f"per branch: every task of the {YEAR} plan that targets it is asked about (任务) once "
                     f"and reported by {REPORTED:.0%}; {CORRECTED:.0%} of reports corrected once; a photo for "
                     f"1 report in {EVIDENCE_EVERY}; 3 meetings a month + 2 a quarter, 主题党日 and 党员大会 with "
                     f"the whole branch's roll (10 % absent), 支委会 with the committee's; each mobile member "
                     f"checks in monthly (half by location) and gets a monthly reminder; 12 sheets; "
                     f"3 reminders per unreported task; every message in inbound_messages")
        filled, ledger_points, overview_points, matrix_points = 0, [], [], []
        codes = [f"DW{c:0{max(2, len(str(committees)))}d}" for c in range(1, committees + 1)]
        fill_rows: dict[str, int] = {}
        fill_seconds = 0.0
        for point in checkpoints:
            got = child("fill", cap, url=url, committees=codes[filled:point])
            fill_seconds += got["seconds"]
            for k, v in got["rows"].items():
                fill_rows[k] = fill_rows.get(k, 0) + v
            filled = point
            active = filled * branches // committees
            say("", f"-- {filled} of {committees} committees have a year of activity "
                    f"({active:,} branches; fill so far {fill_seconds:.0f} s)")
            ledger_points.append(_measure(say, cap, ledger_points, active, "ledger of one committee (12 months)",
                                          lambda: child("ledger", cap, url=url, committee=codes[0],
                                                        path=str(tmp / "ledger.xlsx")),
                                          lambda r: f"{r['branches']:,} branches: queries {r['query_seconds']:.1f} s, "
                                                    f"with the .xlsx {r['seconds']:.1f} s ({r['mb']:.0f} MB)"))
            for label, path, pts in (("workbench overview of one committee (December)", "/dashboard/", overview_points),
                                     ("workbench task matrix of one committee (December)",
                                      f"/dashboard/matrix?month={YEAR}-12", matrix_points)):
                pts.append(_measure(say, cap, pts, active, label,
                                    lambda path=path: child("page", cap, url=url, path=path),
                                    lambda r: f"{r['seconds']:.1f} s a view (first {r['first_seconds']:.1f} s), "
                                              f"{r['kb']:.0f} KB"))
        results.update(fill_rows=fill_rows, fill_seconds=fill_seconds, ledger=[p for p in ledger_points if p],
                       overview=[p for p in overview_points if p], matrix=[p for p in matrix_points if p])
        for label, pts in (("ledger of one committee", ledger_points),
                           ("workbench overview of one committee", overview_points),
                           ("workbench task matrix of one committee", matrix_points)):
            pts = [p for p in pts if p]
            if len(pts) >= 2:
                tf, mf = fit([(p["active"], p["seconds"]) for p in pts]), fit([(p["active"], p["rss_mb"]) for p in pts])
                say("derived", f"{label}: + {tf[1] * 1000:.2f} s and + {mf[1] * 1000:.0f} MB per 1,000 branches "
                               f"with a year of activity anywhere in the province; at {PROVINCE_BRANCHES:,}: "
                               f"≈ {tf[0] + tf[1] * PROVINCE_BRANCHES:.0f} s, "
                               f"≈ {(mf[0] + mf[1] * PROVINCE_BRANCHES) / 1024:.1f} GB")
                results[f"{label}_fit"] = {"seconds": tf, "rss_mb": mf}

        # 3. the monthly push at full size: December (the year's states to read), then March, sent
        say("", "\n== the monthly push, every branch ==")
        december = _measure(say, cap, [], branches, "December sheets (a year of states read)",
                            lambda: _push(cap, url, f"{YEAR}-12", f"{YEAR}-12-01"),
                            lambda r: f"{r['sheets']:,} rendered in {r['render_seconds']:.1f} s, queued in "
                                      f"{r['queue_seconds']:.1f} s, {r['body_bytes'] / r['sheets']:.0f} B a sheet")
        results["december"] = december
        results["base_rss_mb"] = child("base", cap, url=url)["rss_mb"]
        standin, api = start_standin()
        push = child("push", cap, url=url, period=f"{YEAR}-03", today=f"{YEAR}-03-01", send=True, api_base=api)
        results["push"] = push
        say("measured", f"{push['sheets']:,} sheets rendered in {push['render_seconds']:.1f} s "
                        f"({push['render_seconds'] / push['sheets'] * 1e3:.3f} ms a branch), queued in "
                        f"{push['queue_seconds']:.1f} s ({push['queue_seconds'] / push['sheets'] * 1e3:.3f} ms a "
                        f"branch), {push['body_bytes'] / push['sheets']:.0f} B a sheet; peak {push['rss_mb']:.0f} MB "
                        f"(load ≤ {push['load']:.1f})")
        say("measured", f"sent {push['sent']:,} to the loopback stand-in in {push['send_seconds']:.0f} s: "
                        f"{push['sent'] / push['send_seconds']:.0f} messages/s (16 threads, one process, "
                        f"an outcome committed per row; load ≤ {push['load']:.1f})")
        standin.terminate()
        standin = None

        # 4. callbacks at this size
        if args.callbacks:
            say("", "\n== callbacks at `serve` (2 workers) on the province database ==")
            results["callbacks"] = _callbacks(say, url, branches, width, args.callbacks)

        # 5. disk
        say("", "\n== disk (PostgreSQL, indexes included) ==")
        results["disk"] = _disk(say, admin, url, branches, members, fill_rows)
        _province(say, results)
        say("", f"\nbench total {time.perf_counter() - started:.0f} s")
        (tmp / "results.json").write_text(json.dumps(results, default=str, indent=1))
        print(json.dumps(results, default=str), file=sys.stderr)
    finally:
        for proc in [*RUNNING, *([standin] if standin is not None else [])]:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        admin.dispose()
        pg.stop()
        subprocess.run(["rm", "-rf", str(tmp)])


def _measure(say, cap: int, previous: list, active: int, label: str, run, describe) -> dict | None:
    """One checkpoint measurement, unless the line through the earlier ones
    says it would pass the memory cap (then: skipped, and derived later)."""
    done = [p for p in previous if p]
    if len(done) >= 2:
        mf = fit([(p["active"], p["rss_mb"]) for p in done])
        if mf[0] + mf[1] * active > cap * 0.9:
            say("skipped", f"{label}: would need ≈ {mf[0] + mf[1] * active:.0f} MB (> {cap * 0.9:.0f}); see the line below")
            return None
    try:
        r = run()
    except Capped as e:
        say("capped", f"{label}: {e}")
        return None
    say("measured", f"{label}: {describe(r)}; peak {r['rss_mb']:.0f} MB (load ≤ {r['load']:.1f})")
    return {"active": active, "seconds": r.get("seconds", r.get("queue_seconds")), **r}


def _push(cap: int, url: str, period: str, today: str) -> dict:
    from sqlalchemy import text
    from sqlalchemy import create_engine
    r = child("push", cap, url=url, period=period, today=today)
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("DELETE FROM deliveries WHERE purpose = :p"), {"p": BENCH_PURPOSE})
    engine.dispose()
    return r


def _callbacks(say, url: str, branches: int, width: int, count: int) -> dict:
    from bench import loadgen
    from bench.callback_bench import AES, CORP, TOKEN, wait_up
    port = free_port()
    env = {**os.environ, "ZHIBU_CONFIG": os.devnull, "ZHIBU_DATABASE__URL": url, "ZHIBU_WECOM__TOKEN": TOKEN,
           "ZHIBU_WECOM__ENCODING_AES_KEY": AES, "ZHIBU_WECOM__CORP_ID": CORP,
           "ZHIBU_SCHEDULER__ENABLED": "false", "ZHIBU_LOG__LEVEL": "WARNING"}
    server = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port), "--workers", "2"],
                              cwd=ROOT, env=env)
    try:
        wait_up(port, "/healthz")
        rng = random.Random(5)
        users = [member_userid(rng.randint(1, branches), rng.randint(0, PER_BRANCH - 1), width) for _ in range(5000)]
        full = loadgen.build_requests(TOKEN, AES, CORP, users, ["签到", "任务"], count, 10**15)
        paced = loadgen.build_requests(TOKEN, AES, CORP, users, ["签到", "任务"], 2000, 2 * 10**15)
        loadgen.run(port, full[:300], 8)  # warm up
        before = os.getloadavg()[0]
        fast = loadgen.run(port, full[300:], 8)
        slow = loadgen.run(port, paced, 4, rate=200)
        load = max(before, os.getloadavg()[0])
    finally:
        server.terminate()
        server.wait(timeout=30)
    say("measured", f"full speed (8 connections, Python load generator on the same 2 cores): {fast['rps']:.0f}/s, "
                    f"p50 {fast['p50']:.1f} ms, p99 {fast['p99']:.1f} ms, errors {fast['errors']}")
    say("measured", f"at 200/s: p50 {slow['p50']:.1f} ms, p99 {slow['p99']:.1f} ms, errors {slow['errors']} "
                    f"(load before and after ≤ {load:.1f})")
    return {"full": fast, "paced": slow, "load": load}


def _disk(say, admin, url: str, branches: int, members: int, fill_rows: dict) -> dict:
    from sqlalchemy import create_engine, text
    from storage.models import Base
    engine = create_engine(url)
    out = {}
    with engine.connect() as c:
        c.execute(text("ANALYZE"))
        for table in Base.metadata.sorted_tables:
            name = table.name
            rows = c.execute(text(f"SELECT count(*) FROM {name}")).scalar()
            total, heap = c.execute(text(f"SELECT pg_total_relation_size('{name}'), pg_relation_size('{name}')")).one()
            out[name] = {"rows": rows, "bytes": total, "heap": heap}
        size = c.execute(text("SELECT pg_database_size(current_database())")).scalar()
    engine.dispose()
    per_member_tables = ("members",)
    per_branch_tables = ("organizations", "addresses")
    for name, d in sorted(out.items(), key=lambda kv: -kv[1]["bytes"]):
        if d["rows"]:
            say("measured", f"{name:17s} {d['rows']:>11,} rows {d['bytes'] / 1e6:>8.0f} MB "
                            f"({d['bytes'] / d['rows']:.0f} B a row with its indexes)")
    activity = sum(d["bytes"] for n, d in out.items() if n not in (*per_member_tables, *per_branch_tables))
    rows_activity = sum(d["rows"] for n, d in out.items() if n not in (*per_member_tables, *per_branch_tables))
    member_bytes = out["members"]["bytes"] / out["members"]["rows"]
    branch_bytes = sum(out[n]["bytes"] for n in per_branch_tables) / branches
    say("measured", f"database {size / 1e9:.2f} GB; a branch-year of activity: {rows_activity / branches:.0f} rows, "
                    f"{activity / branches / 1e3:.0f} KB; a member: {member_bytes:.0f} B; a branch's org + address rows: "
                    f"{branch_bytes:.0f} B")
    return {"tables": out, "database_bytes": size, "branch_year_bytes": activity / branches,
            "branch_year_rows": rows_activity / branches, "member_bytes": member_bytes, "branch_bytes": branch_bytes}


def _province(say, r: dict) -> None:
    """What the measured figures make of a province (derived, every line)."""
    B, M = PROVINCE_BRANCHES, PROVINCE_MEMBERS
    d = r["disk"]
    say("", f"\n== a province: {B:,} branches, {M:,} members (derived from the figures above) ==")
    say("derived", f"rows a year: {d['branch_year_rows'] * B / 1e6:.0f} million; disk a year "
                   f"≈ {d['branch_year_bytes'] * B / 1e9:.0f} GB + members {d['member_bytes'] * M / 1e9:.1f} GB "
                   f"+ orgs/addresses {d['branch_bytes'] * B / 1e9:.2f} GB (linear in branches and members)")
    t, m = r["import_fit"]["seconds"], r["import_fit"]["rss_mb"]
    say("derived", f"roster import: ≈ {t[0] + t[1] * M:.0f} s, ≈ {(m[0] + m[1] * M) / 1024:.1f} GB "
                   f"in one process (the line through the measured sizes)")
    for label in ("ledger of one committee", "workbench overview of one committee",
                  "workbench task matrix of one committee"):
        lf = r.get(f"{label}_fit")
        if lf:
            say("derived", f"{label}: ≈ {lf['seconds'][0] + lf['seconds'][1] * B:.0f} s, "
                           f"≈ {(lf['rss_mb'][0] + lf['rss_mb'][1] * B) / 1024:.1f} GB (the line through the checkpoints)")
    base = r["base_rss_mb"]
    for name in ("december", "push"):
        p = r.get(name)
        if p:
            scale = B / p["sheets"]
            say("derived", f"{'December' if name == 'december' else 'March'} sheets: render + queue "
                           f"≈ {p['queue_seconds'] * scale:.0f} s, peak ≈ {(base + (p['rss_mb'] - base) * scale) / 1024:.1f} GB "
                           f"(× {scale:.0f} above the {base:.0f} MB a process weighs before it reads)")
    p = r["push"]
    rate = p["sent"] / p["send_seconds"]
    say("derived", f"sending {B:,} sheets at the measured {rate:.0f}/s: ≈ {B / rate / 60:.0f} min of our own "
                   f"work (loopback; WeCom's latency and limits come on top, docs/scale.md)")
    say("derived", f"WeCom's limits for {B:,} sheets: robots (20/min per key, one key a branch) do not bind; "
                   f"app chats: corp API 10,000/min and 150,000/h → ≥ {B / 150_000 * 60:.0f} min; "
                   f"appchat person-times 20,000/min → {B * PER_BRANCH / 20_000:.0f} min at {PER_BRANCH} a group")


if __name__ == "__main__":
    main()
