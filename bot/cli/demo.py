"""The demo: a SQLite database under data/, the example county and plans,
three months of its life, a loopback WeCom stand-in, the server and the
scheduler — nothing talks to the real WeCom. Try it with
`python -m bot say u700001 任务`, or sign in to the workbench.

The three months (the current one and the two before) are made the way
they would happen: every publish, report, correction, return, meeting and
check-in goes through the chat handler (`handlers.dispatch.handle`) at the
moment it "happened", on a frozen clock — so late reports, back-filled
meetings, returns and re-reports carry their real marks. Made once per
database (a job_runs row); a delivery to a wrong robot key fails.

The last hours (`_registers_and_cards`) add the org department's registers
and one-tap's traces the same way: development entries at several stages
(an applicant whose talk falls due), a branch flagged 软弱涣散 with two
rectification items (one reported), 收到, an extension granted and one
pending, and a report made from own words confirmed by 是."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml

from bot.clock import FrozenClock
from bot.config import load_config
from bot.runtime import Runtime
from handlers.dispatch import handle
from handlers.inbound import Inbound
from handlers.render import task_ref
from storage.addresses import add_address, org_owner, remove_addresses
from storage.checkins import mobile_without_checkin
from storage.jobs import claim_run
from storage.matrix import month_tasks
from storage.meetings import people_of, roll_of
from storage.members import reachable_members
from storage.models import MEETING_KINDS, REPORTING_ROLES
from storage.month import Month
from storage.orgs import active_branches, targets
from storage.outbox import FAILED, SENT, claim, record_outcome
from storage.rectification import items_of
from storage.tasks import REPORTED, state_of
from storage.workdays import first_workday
from bot.web.workbench.passwords import hash_password
from storage.accounts import holder_by_userid, open_account
from storage.db import transaction, upgrade
from storage.importers.plan_import import import_plan
from storage.importers.roster_import import import_roster

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
# Made-up credentials for the loopback set-up only.
DEMO_CONFIG = ROOT / "data" / "demo-config.yaml"
DEMO_USER, DEMO_PASSWORD = "s7001", "demo-pass-2026"  # the demo's workbench sign-in (loopback only)
# Who else may sign in, with the same password: a committee's staff, a branch secretary.
DEMO_USERS = {"s7001": "组织部 余刚永", "s7004": "县直机关工委 闫杰", "u700001": "县财政局机关党支部书记 吕丽刚"}
BAD_ROBOT = ("ZB0036", "bad-robot-key-demo")  # this branch's group robot key is wrong: its sends fail
NOTES = ("已召开支委会研究部署，形成会议记录", "已组织党员集中学习，到会党员9人", "已完成，附签到表和照片",
         "已按要求开展，群众反映良好", "已排查完毕，无问题")
MEETINGS = ("支委会", "党小组会", "主题党日")


def demo_config(port: int, standin_port: int, long_connection: bool = False) -> dict:
    aibot = {"token": "demoAibot", "encoding_aes_key": "AibotAesKey0123456789AibotAesKey01234567890"}
    if long_connection:  # the stand-in's WebSocket endpoint, on the next port
        aibot = {"mode": "long_connection", "bot_id": "demo-aibot", "secret": "demo-aibot-secret",
                 "ws_url": f"ws://127.0.0.1:{standin_port + 1}"}
    return {
        "database": {"url": "sqlite:///data/demo.db"},
        "wecom": {"corp_id": "wwdemo0000000001", "agent_id": 1000002, "secret": "demo-secret",
                  "token": "demoToken", "encoding_aes_key": "DemoAesKey0123456789DemoAesKey0123456789abc",
                  "api_base": f"http://127.0.0.1:{standin_port}/cgi-bin/",
                  "oauth_url": f"http://127.0.0.1:{standin_port}/connect/oauth2/authorize",
                  "sso_url": f"http://127.0.0.1:{standin_port}/wwlogin/sso/login"},
        "aibot": aibot,
        "server": {"host": "127.0.0.1", "port": port, "media_dir": "data/demo-media"},
    }


def run_demo(port: int, serve_too: bool = True, standin_port: int = 8091, long_connection: bool = False) -> None:
    os.chdir(ROOT)
    DEMO_CONFIG.parent.mkdir(exist_ok=True)
    DEMO_CONFIG.write_text("# Written by `python -m bot demo`: loopback only, made-up secrets.\n"
                           + yaml.safe_dump(demo_config(port, standin_port, long_connection), allow_unicode=True),
                           "utf-8")
    runtime = Runtime.from_config(load_config(str(DEMO_CONFIG), environ={}))
    upgrade(runtime.engine)
    with transaction(runtime.sessions) as session:
        now = runtime.clock.now()
        roster = import_roster(session, EXAMPLES / "county" / "roster.xlsx", now)
        plans = [import_plan(session, EXAMPLES / f"plan-{y}.yaml", now) for y in (2026, 2027)]
        hashed = hash_password(DEMO_PASSWORD)
        for userid in DEMO_USERS:
            member, _unit, _account = holder_by_userid(session, userid)
            open_account(session, member, hashed, now)
        fresh = claim_run(session, "demo-data", "v1", now)
    if fresh:
        print(f"示例数据：{populate(runtime)}")
    print(f"示例名册：组织 {roster['orgs']}；党员 {roster['members']}")
    print(f"示例计划：{'；'.join(str(p) for p in plans)}")
    if not serve_too:
        return
    standin = subprocess.Popen([sys.executable, "-m", "bot.wecom.standin", "--port", str(standin_port),
                                "--ws-port", str(standin_port + 1)])
    _stand_in_scans_as(standin_port, DEMO_USER)
    print(f"企业微信模拟服务：http://127.0.0.1:{standin_port}/_standin/received（查看已“发出”的消息）")
    print(f"服务：http://127.0.0.1:{port}/healthz   工作台：http://127.0.0.1:{port}/dashboard/")
    print(f"工作台：http://127.0.0.1:{port}/dashboard/login   演示密码：{DEMO_PASSWORD}")
    for userid, who in DEMO_USERS.items():
        print(f"  账号 {userid}（{who}）")
    print(f"  或点“企业微信登录”：模拟服务当作 {DEMO_USER} 扫码")
    print("试一试（另开一个终端）：\n"
          "  .venv/bin/python -m bot say u700001 任务      # 书记吕丽刚查看任务\n"
          "  .venv/bin/python -m bot say u700001 完成 1 已排查\n"
          "  .venv/bin/python -m bot say u700029 签到      # 流动党员签到\n"
          "  .venv/bin/python -m bot say s7001 进度        # 组织部查看进度\n"
          "  （或 ./run say u700001 帮助）")
    if long_connection:
        print("智能机器人长连接（定时任务进程连到模拟服务）：群里 @机器人 可这样模拟：\n"
              f"  curl -d '{{\"body\": {{\"msgid\": \"m1\", \"chatid\": \"wrDemoGroup\", \"chattype\": \"group\", "
              f"\"from\": {{\"userid\": \"u700001\"}}, \"msgtype\": \"text\", \"text\": {{\"content\": \"@支部通 任务\"}}}}}}' "
              f"http://127.0.0.1:{standin_port}/_standin/aibot-push\n"
              f"  回复见 http://127.0.0.1:{standin_port}/_standin/received（aibot_ws/…）")
    from bot.web.server import serve
    try:
        serve(runtime, "127.0.0.1", port, 2)
    finally:
        standin.terminate()


def _stand_in_scans_as(port: int, userid: str) -> None:
    """Wait for the stand-in, and tell it whom its WeCom sign-in pages sign in."""
    import json
    import urllib.request
    for _ in range(50):
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/_standin/oauth-user",
                                             data=json.dumps({"userid": userid}).encode(), method="POST")
            urllib.request.urlopen(request, timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)


class _Chat:
    """Messages sent to the bot at a given moment, as WeCom would deliver them."""

    def __init__(self, runtime: Runtime):
        self.runtime, self.n = runtime, 0

    def say(self, user: str, text: str, at: datetime, kind: str = "text") -> str | None:
        self.n += 1
        inbound = Inbound("app", user, kind, text, dedupe_key=f"demo:{self.n}")
        return handle(inbound, self.runtime.sessions, FrozenClock(at))


def _at(day: date, rng: random.Random) -> datetime:
    """A working hour of `day`, never on the hour or half hour."""
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=rng.randint(8, 17), minutes=rng.choice(
        [m for m in range(60) if m % 30]))


def _attendance(people: list, kind: str, rng: random.Random) -> str:
    """出席 x/y as the roll has it (会议 refuses a head-count that disagrees
    with it), with up to two absent members named; a kind without a roll,
    a head-count."""
    roll = roll_of(people, kind)
    if not roll:
        came = rng.randint(5, 9)
        return f"出席 {came}/9"
    names = [p.name for p in roll]
    unique = [n for n in names if names.count(n) == 1]  # a shared name would be asked back
    absent = rng.sample(unique, min(rng.randint(0, 2), len(unique), len(roll) - 1))
    return f"出席 {len(roll) - len(absent)}/{len(roll)}" + (f" 缺席 {'、'.join(absent)}" if absent else "")


def populate(runtime: Runtime) -> str:
    """Three months of the county's life; a line saying how much."""
    rng, chat = random.Random(2026), _Chat(runtime)
    now = runtime.clock.now()
    this = Month.of(now.date())
    months = [this.shift(-2), this.shift(-1), this]
    counts = dict.fromkeys(("任务", "上报", "逾期上报", "退回", "补报", "更正", "会议", "补记录", "签到"), 0)
    with runtime.sessions() as session:
        branches = active_branches(session)
        reporters = {b.id: [m.wecom_userid for m in reachable_members(session, b.id, REPORTING_ROLES)]
                     for b in branches}
        people = {b.id: people_of(session, b.id) for b in branches}  # a meeting's roll, as 会议 reads it
        # Every active mobile member (none has checked in on a day before the county existed).
        mobile = [m.wecom_userid for m in mobile_without_checkin(session, date(2000, 1, 1), date(2000, 1, 1))
                  if m.wecom_userid]
    for month in months:
        start = first_workday(month.year, month.number)
        with runtime.sessions() as session:
            has_tasks = bool(month_tasks(session, month))
        if not has_tasks:  # a month before the plans: the org department publishes its tasks
            day = start + timedelta(days=1)
            for title, due, scope in (("召开支部委员会会议", 24, "全部"), ("开展主题党日活动", 26, "全部"),
                                      ("流动党员每月报到", 20, "农村,社区"), ("学习贯彻全会精神专题研讨", 28, "全部")):
                chat.say(DEMO_USER, f"发布 {title} 截止 {month.year}-{month.number:02d}-{due} 对象 {scope}",
                         _at(day, rng))
                counts["任务"] += 1
        with runtime.sessions() as session:
            tasks = month_tasks(session, month)
        for branch in branches:
            who = reporters.get(branch.id)
            if not who:
                continue
            for task in (t for t in tasks if targets(t, branch)):
                roll = rng.random()
                if roll < 0.15:
                    continue  # not reported (overdue once the deadline passes)
                late = roll > 0.87
                day = task.deadline + timedelta(days=rng.randint(1, 4)) if late \
                    else task.deadline - timedelta(days=rng.randint(0, 12))
                at = _at(max(day, start), rng)
                if at >= now:
                    continue  # not yet
                reply = chat.say(who[0], f"完成 {task_ref(task, at.date())} {rng.choice(NOTES)}", at)
                if not reply or not reply.startswith("已记录"):
                    continue
                counts["上报"] += 1
                counts["逾期上报"] += late
                later, then = at + timedelta(days=1, hours=1), rng.random()
                if then < 0.08 and later < now:
                    chat.say(DEMO_USER, f"退回 {task_ref(task, later.date())} {branch.code} 缺少会议照片", later)
                    counts["退回"] += 1
                    again = later + timedelta(days=2)
                    if then < 0.05 and again < now:
                        chat.say(who[0], f"完成 {task_ref(task, again.date())} 已补充会议照片", again)
                        counts["补报"] += 1
                elif then > 0.95 and later < now:
                    chat.say(who[0], f"更正 {task_ref(task, later.date())} 到会人数应为11人", later)
                    counts["更正"] += 1
            for kind in MEETINGS:
                held = start + timedelta(days=rng.randint(1, 18))
                lag = rng.choice([0, 0, 0, 1, 2, 6, 9])  # now and then logged a week later: 补记录
                at = _at(held + timedelta(days=lag), rng)
                if at >= now or held > now.date():
                    continue
                reply = chat.say(who[0], f"会议 {kind} {held.isoformat()} {_attendance(people[branch.id], kind, rng)} "
                                         "学习上级文件精神", at)
                if not (reply or "").startswith("已记录"):  # the demo's own data: a refusal is its bug
                    raise RuntimeError(f"演示数据的会议记录被拒绝：{reply}")
                counts["会议"] += 1
                counts["补记录"] += lag > 3
        for userid in mobile:
            if rng.random() < 0.8:
                at = _at(start + timedelta(days=rng.randint(0, 20)), rng)
                if at < now:
                    chat.say(userid, "签到 在外务工，一切正常", at)
                    counts["签到"] += 1
    with runtime.sessions() as session:
        tasks = month_tasks(session, this)
    current = [t for t in tasks if t.deadline >= now.date()] or tasks
    if current:
        chat.say(DEMO_USER, f"催办 {current[0].number}", now - timedelta(hours=1))
    counts |= _registers_and_cards(runtime, chat, [b for b in branches if reporters.get(b.id)], reporters, now)
    _settle_outbox(runtime, now)
    return "，".join(f"{k} {v}" for k, v in counts.items())


# 发展 steps (days before today) of the demo's development register: an
# applicant whose talk falls due within the week (its reminder goes out),
# an 积极分子, a 发展对象 (a year and more after 积极分子), a 预备党员.
DEVELOPMENT = (("周晓燕", (("申请", 27),)),
               ("陈建军", (("申请", 400), ("谈话", 380), ("积极分子", 200))),
               ("李春梅", (("申请", 900), ("谈话", 880), ("积极分子", 800), ("发展对象", 400))),
               ("王海涛", (("申请", 1300), ("谈话", 1280), ("积极分子", 1200), ("发展对象", 800), ("预备", 200))))
RECTIFICATION = ("配齐配强支部委员", "规范三会一课记录")


def _registers_and_cards(runtime: Runtime, chat: _Chat, branches: list, reporters: dict, now: datetime) -> dict:
    """The last hours: the registers and one-tap's traces, each through its
    chat command (a refusal is the demo's bug: it stops the demo)."""
    counts = dict.fromkeys(("发展登记", "整顿", "整改事项", "收到", "延期申请", "同意延期", "自然语言确认"), 0)
    moments = iter(now - timedelta(hours=4) + timedelta(minutes=5 * i) for i in range(1000))

    def say(user: str, text: str, expect: str) -> str:
        reply = chat.say(user, text, next(moments)) or ""
        if expect not in reply:
            raise RuntimeError(f"演示数据的“{text}”没有按预期处理：{reply}")
        return reply

    today = now.date()
    for branch, (name, steps) in zip(branches, DEVELOPMENT):  # one person each in the first branches
        for step, days_ago in steps:
            say(reporters[branch.id][0], f"发展 {name} {step} {(today - timedelta(days=days_ago)).isoformat()}", "已登记")
            counts["发展登记"] += 1
    if len(branches) < 8:
        return counts
    flagged = next((b for b in branches[4:] if b.category == "农村"), branches[4])
    rest = [b for b in branches[4:] if b.id != flagged.id]
    say(DEMO_USER, f"整顿 {flagged.code} 班子软弱，三会一课不正常", "已将")
    counts["整顿"] += 1
    for title, weeks in zip(RECTIFICATION, (4, 8)):
        say(DEMO_USER, f"整改 {flagged.code} {title} 截止 {(today + timedelta(weeks=weeks)).isoformat()}", "已交办")
        counts["整改事项"] += 1
    with runtime.sessions() as session:
        first = items_of(session, [flagged.id])[0].task
    at = next(moments)
    say(reporters[flagged.id][0], f"完成 {task_ref(first, at.date())} 已召开支委会补选组织委员，配齐支委", "已记录")
    # 收到, 延期 and own words, each on a task of this month its branch has not reported
    with runtime.sessions() as session:
        month = Month.of(next(moments).date())
        open_ = sorted(((b, t) for b in rest for t in month_tasks(session, month)
                        if t.duty not in MEETING_KINDS and targets(t, b) and state_of(session, t, b) != REPORTED),
                       key=lambda bt: bt[1].deadline < today)  # not yet due first; at a month's end, overdue too
    picks, used = [], set()
    for branch, task in open_:
        if branch.id not in used:
            picks.append((branch, task))
            used.add(branch.id)
    for (branch, task), step in zip(picks, ("收到", "收到", "延期", "延期", "words")):
        who, ref = reporters[branch.id][0], task_ref(task, next(moments).date())
        if step == "收到":
            say(who, f"收到 {ref}", "已收到")
            counts["收到"] += 1
        elif step == "延期":
            reply = say(who, f"延期 {ref} 7天 村里正在换届，党员集中不齐", "已提交延期申请")
            counts["延期申请"] += 1
            if counts["延期申请"] == 1:  # the first is granted, the second left for the workbench
                number = reply.split("编号 ", 1)[1].split("）", 1)[0]
                say(DEMO_USER, f"同意延期 {number}", "已同意")
                counts["同意延期"] += 1
        else:
            say(who, f"第{task.number}项已经完成了，材料都整理好了", "我理解为")
            say(who, "是", "已记录")
            counts["自然语言确认"] += 1
    return counts


def _settle_outbox(runtime: Runtime, now: datetime) -> None:
    """What the months queued went out back then (marked sent at its time),
    but to the branch whose robot key is wrong: there WeCom answered 93000,
    and it is on the overview with its reason and a retry button. The last
    hour's (the chase) is left for the demo's delivery worker to send."""
    code, key = BAD_ROBOT
    with transaction(runtime.sessions) as session:
        remove_addresses(session, org_owner(code))
        add_address(session, org_owner(code), "wecom_robot", key, now)
        rows, _ = claim(session, "demo", now - timedelta(hours=2), limit=100_000)
        for row in rows:
            if row.target == org_owner(code):
                record_outcome(session, {"id": row.id, "state": FAILED, "attempts": 1, "channel": "wecom_robot",
                                         "address": key, "last_error": "93000 invalid webhook url"})
            else:
                record_outcome(session, {"id": row.id, "state": SENT, "attempts": 1, "sent_at": row.due_at})
