"""The escalation ladder over a frozen month (bot/schedule/pushes/ladder.py):
group → the secretary's card → the committee's staff → the org
department's digest; each step once (the daily job runs twice a day, as a
restart would), on working days only, stopping at 收到 or a report, and by
a branch's own deadline where an extension moved it."""
from datetime import date, timedelta

from sqlalchemy import select

from bot.schedule.scheduler import Scheduler
from storage.models import ExtensionRequest, LadderStep, Task
from tests.test_scheduler import at, live

BRANCHES = 36
TITLE = "冬季走访困难党员"
ORG = "s7001"
ACKNOWLEDGING = "u700001"   # ZB0001 书记: 收到 on 8 Dec
REPORTING = "u700012"       # ZB0002 书记: 完成 on 9 Dec
EXTENDED = "u700035"        # ZB0003 书记: 7 more days, granted
COMMITTEE_STAFF = [f"s70{n:02d}" for n in range(4, 12)]


def test_the_ladder_over_december(wired, standin, worker, wecom):
    at(wired, date(2026, 12, 1), 8, 30)
    assert "已发布" in wecom.say(ORG, f"发布 {TITLE} 截止 2026-12-10 对象 全部")
    with wired.sessions() as s:
        number = s.scalar(select(Task.number).where(Task.title == TITLE))
    sched = Scheduler(wired, worker)
    sent_on = {}

    def run(day):
        before = len(standin.received())
        live(wired, sched, day, day)
        sent_on[day] = [r for r in standin.received()[before:] if TITLE in str(r["body"])
                        and not any(w in str(r["body"]) for w in ("新任务", "提醒单"))]  # not the publication, the sheet

    day = date(2026, 12, 1)
    while day <= date(2026, 12, 18):
        if day == date(2026, 12, 8):
            at(wired, day, 8, 0)
            assert "已收到" in wecom.say(ACKNOWLEDGING, f"收到 {number}")
            assert "已提交延期申请" in wecom.say(EXTENDED, f"延期 {number} 7天 村两委换届")
            with wired.sessions() as s:
                request = s.scalar(select(ExtensionRequest.id))
            assert "新截止日期" in wecom.say(ORG, f"同意延期 {request}")
        if day == date(2026, 12, 9):
            at(wired, day, 8, 0)
            assert "已记录" in wecom.say(REPORTING, f"完成 {number} 已走访")
        run(day)
        day += timedelta(days=1)

    def kinds(d):
        return [("card" if r["body"].get("msgtype") == "template_card"  # a reminder card, not a decision's
                 and r["body"]["template_card"]["button_list"][0]["text"] == "收到" else "text", r["to"])
                for r in sent_on[d]]

    # Nothing on weekends; nothing before the group reminder.
    assert all(not sent_on[d] for d in sent_on if d.weekday() >= 5)
    assert {d: [r["body"] for r in sent_on[d]] for d in sent_on if d < date(2026, 12, 7) and sent_on[d]} == {}
    # 1. Monday 7 Dec (3 days ahead): every group, once.
    groups = [r for d in sent_on for r in sent_on[d] if "截止提醒" in str(r["body"])]
    assert len(groups) == BRANCHES and all(r in sent_on[date(2026, 12, 7)] for r in groups)
    assert f"收到 {number}" in str(groups[0]["body"])
    # 2. Thursday 10 Dec: a card to each secretary — not ZB0001 (收到), ZB0002 (reported), ZB0003 (extended).
    cards = [to for d in sent_on for kind, to in kinds(d) if kind == "card"]
    on_the_day = [to for kind, to in kinds(date(2026, 12, 10)) if kind == "card"]
    assert len(on_the_day) == BRANCHES - 3 and not {ACKNOWLEDGING, REPORTING, EXTENDED} & set(on_the_day)
    # ZB0003's own deadline (17 Dec, a Thursday) brings its card then.
    assert [to for kind, to in kinds(date(2026, 12, 17)) if kind == "card"] == [EXTENDED]
    assert len(cards) == len(set(cards)) == BRANCHES - 2
    # 3. Friday 11 Dec: each committee's staff one list, without the three.
    lists = [r for r in sent_on[date(2026, 12, 11)] if "逾期未报（" in str(r["body"])]
    assert sorted(r["to"] for r in lists) == COMMITTEE_STAFF
    assert not any(code in str(r["body"]) for r in lists for code in ("ZB0001）", "ZB0002）", "ZB0003）"))
    assert len([r for d in sent_on for r in sent_on[d] if "逾期未报（" in str(r["body"])]) == len(COMMITTEE_STAFF) + \
        len([r for r in sent_on[date(2026, 12, 18)] if "逾期未报（" in str(r["body"])])  # ZB0003's on the 18th
    # 4. Tuesday 15 Dec, the third working day after: the org department's digest, once.
    digests = [(d, r["to"]) for d in sent_on for r in sent_on[d] if "逾期未报汇总" in str(r["body"])]
    assert sorted(digests) == [(date(2026, 12, 15), s) for s in ("s7001", "s7002", "s7003")]
    # Each step once per branch, recorded.
    with wired.sessions() as s:
        steps = s.execute(select(LadderStep.task_id, LadderStep.branch_id, LadderStep.step)).all()
    assert len(steps) == len(set(steps))


def test_the_ladder_never_runs_on_a_holiday(wired, standin, worker, wecom):
    """National Day 2026 (1–7 October): a deadline on Friday 9 October has its
    group reminder on Thursday the 8th, the card on the 9th, nothing in the holiday."""
    at(wired, date(2026, 9, 28), 8, 30)
    assert "已发布" in wecom.say(ORG, f"发布 {TITLE} 截止 2026-10-09 对象 ZB0001")
    sched = Scheduler(wired, worker)
    days = {}
    day = date(2026, 9, 28)
    while day <= date(2026, 10, 9):
        before = len(standin.received())
        live(wired, sched, day, day)
        days[day] = [r for r in standin.received()[before:] if TITLE in str(r["body"])
                     and not any(w in str(r["body"]) for w in ("新任务", "提醒单"))]
        day += timedelta(days=1)
    assert [d for d in days if days[d]] == [date(2026, 10, 8), date(2026, 10, 9)]
    assert "截止提醒" in str(days[date(2026, 10, 8)][0]["body"]) and len(days[date(2026, 10, 8)]) == 1
    [card] = days[date(2026, 10, 9)]
    assert card["body"]["msgtype"] == "template_card" and card["to"] == ACKNOWLEDGING
