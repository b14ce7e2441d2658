"""A whole month on a frozen clock against the loopback stand-in: who gets
what, when, exactly once; holidays; catch-up after downtime; one leader."""
from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy import select

from bot.schedule.scheduler import Scheduler
from storage.db import transaction
from storage.models import CheckIn, Event, Member, Organization
from storage.importers.plan_import import import_plan
from tests.conftest import set_group_address

BRANCHES = 36


def at(rt, day: date, hh=9, mm=5):
    rt.clock.at = datetime(day.year, day.month, day.day, hh, mm)


def live(rt, scheduler, start: date, end: date, runs_per_day=2):
    """Every day from start to end: the daily job (twice, as a restart
    would), then the delivery worker."""
    day = start
    while day <= end:
        at(rt, day)
        for _ in range(runs_per_day):
            scheduler.daily()
            scheduler.deliver()
        day += timedelta(days=1)


def received(standin, text):
    return [r for r in standin.received() if text in str(r["body"])]


def days_sent(standin, text, rt_epoch_day):
    return Counter(rt_epoch_day(r["at"]) for r in received(standin, text))


def test_december_in_full(wired, standin, worker):
    sched = Scheduler(wired, worker)
    sent_on = {}
    day = date(2026, 11, 28)
    while day <= date(2026, 12, 31):
        before = len(standin.received())
        live(wired, sched, day, day)
        sent_on[day] = standin.received()[before:]
        day += timedelta(days=1)

    def on(d, text):
        return [r for r in sent_on[d] if text in str(r["body"])]

    # The December sheet: on Tuesday 1 December (the first working day), once each.
    sheets = [r for d in sent_on for r in on(d, "2026年12月重点工作提醒单")]
    assert len(sheets) == BRANCHES and len(on(date(2026, 12, 1), "2026年12月重点工作提醒单")) == BRANCHES
    assert len({r["to"] for r in sheets}) == BRANCHES
    # Nothing at all on weekends.
    assert all(not sent_on[d] for d in sent_on if d.weekday() >= 5)
    # 排查软弱涣散 was due Friday 27 Nov (the ladder's first two steps were before this
    # month's run): on Monday 30 Nov each committee's staff got one list for it …
    digests = [r for r in on(date(2026, 11, 30), "逾期未报") if "排查软弱涣散" in str(r["body"])]
    assert sorted(r["to"] for r in digests) == [f"s70{n:02d}" for n in range(4, 12)]  # DW01–DW04 staff
    assert not [r for d in sent_on for r in on(d, "截止提醒") if "排查软弱涣散" in str(r["body"])]
    # … and on Wednesday 2 Dec (the third working day after) the org department its digest, once.
    org = [r for d in sent_on for r in on(d, "逾期未报汇总") if "排查软弱涣散" in str(r["body"])]
    assert sorted(r["to"] for r in org) == ["s7001", "s7002", "s7003"]
    assert all(r in sent_on[date(2026, 12, 2)] for r in org)
    # 党费收缴 (due Mon 21 Dec): the group reminder on Friday 18 Dec, once per branch;
    # the secretary's card on Monday 21 Dec, once.
    dues = [r for d in sent_on for r in on(d, "截止提醒") if "党费收缴" in str(r["body"])]
    assert len(dues) == BRANCHES and all(r in sent_on[date(2026, 12, 18)] for r in dues)
    cards = [r for d in sent_on for r in sent_on[d] if r["body"].get("msgtype") == "template_card"
             and "党费收缴" in r["body"]["template_card"]["main_title"]["title"]]
    assert len(cards) == BRANCHES and all(r in sent_on[date(2026, 12, 21)] for r in cards)
    # Mobile members: reminded on Monday 21 Dec (the 20th is a Sunday); secretaries on Fri 25 Dec.
    with wired.sessions() as s:
        mobile = s.scalars(select(Member.wecom_userid).where(Member.is_mobile, Member.wecom_userid.is_not(None))).all()
    reminders = on(date(2026, 12, 21), "本月（2026年12月）您还没有报到")
    assert {r["to"] for r in reminders} == set(mobile)
    assert len([r for d in sent_on for r in on(d, "2026年12月）您还没有报到")]) == len(mobile)
    assert on(date(2026, 12, 25), "流动党员报到情况")


def test_checked_in_members_are_not_reminded(wired, standin, worker):
    with transaction(wired.sessions) as s:
        member = s.scalar(select(Member).where(Member.is_mobile, Member.wecom_userid.is_not(None)))
        s.add(CheckIn(member_id=member.id, day=date(2026, 12, 3), received_at=datetime(2026, 12, 3, 8)))
        userid = member.wecom_userid
    live(wired, Scheduler(wired, worker), date(2026, 12, 21), date(2026, 12, 21))
    reminded = {r["to"] for r in received(standin, "您还没有报到")}
    assert reminded and userid not in reminded


def test_october_sheet_waits_for_the_first_workday_after_national_day(wired, standin, worker, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text("year: 2026\nmonths:\n  10:\n    - title: 国庆后专项工作\n", encoding="utf-8")
    with transaction(wired.sessions) as s:
        import_plan(s, plan, wired.clock.now())
    sched = Scheduler(wired, worker)
    live(wired, sched, date(2026, 10, 1), date(2026, 10, 7))
    assert received(standin, "2026年10月重点工作提醒单") == []
    live(wired, sched, date(2026, 10, 8), date(2026, 10, 9))
    assert len(received(standin, "2026年10月重点工作提醒单")) == BRANCHES


def test_missed_push_catches_up_once_and_is_reported(wired, standin, worker):
    # Down on 1 December; back on Thursday 3 December at 14:00.
    at(wired, date(2026, 12, 3), 14, 0)
    sched = Scheduler(wired, worker)
    sched.catch_up()
    sched.deliver()
    Scheduler(wired, worker).catch_up()  # a second start the same day
    wired.clock.advance(seconds=40)  # the first one's lease has lapsed
    Scheduler(wired, worker).catch_up()
    sched.deliver()
    assert len(received(standin, "2026年12月重点工作提醒单")) == BRANCHES
    with wired.sessions() as s:
        events = s.scalars(select(Event.detail).where(Event.kind == "missed-run")).all()
    assert len(events) == 1 and "2026-12-01" in events[0]


def test_catch_up_before_push_time_does_nothing(wired, standin, worker):
    at(wired, date(2026, 12, 1), 8, 30)
    assert Scheduler(wired, worker).catch_up() == {}


def test_only_the_leader_acts_and_a_dead_leaders_lease_is_taken_over(wired, standin, worker):
    at(wired, date(2026, 12, 1))
    first, second = Scheduler(wired, worker), Scheduler(wired, worker)
    assert first.is_leader() and not second.is_leader()
    assert second.daily() == {}
    wired.clock.advance(seconds=31)  # the first stopped renewing: it died
    assert second.is_leader() and not first.is_leader()
    assert second.daily()["monthly-sheet"] == BRANCHES


def test_apscheduler_jobs_use_shanghai_time_and_a_long_misfire_grace(wired):
    sched = Scheduler(wired).build(blocking=False)
    daily = sched.get_job("daily")
    assert str(daily.trigger.timezone) == "Asia/Shanghai" and str(sched.timezone) == "Asia/Shanghai"
    assert "hour='9', minute='5'" in str(daily.trigger)
    assert sched._job_defaults["misfire_grace_time"] >= 3600 and sched._job_defaults["coalesce"]


def test_unknown_holiday_year_is_flagged_for_staff(wired, standin, worker):
    at(wired, date(2027, 1, 4))
    Scheduler(wired, worker).daily()
    with wired.sessions() as s:
        details = s.scalars(select(Event.detail).where(Event.kind == "holiday-data")).all()
    assert len(details) == 1 and "2027" in details[0]
    assert len(received(standin, "2027年1月重点工作提醒单")) == 0  # queued, sent by deliver()


def test_failed_deliveries_are_reported_to_the_org_department(wired, standin, worker):
    set_group_address(wired, "ZB0002", "bad-key")
    sched = Scheduler(wired, worker)
    live(wired, sched, date(2026, 12, 1), date(2026, 12, 2))
    digests = received(standin, "发送失败")
    assert {r["to"] for r in digests} == {"s7001", "s7002", "s7003"}  # the 组织部 staff
    assert all("ZB0002" in str(r["body"]) and "93000" in str(r["body"]) for r in digests)


def test_staff_can_move_a_push_day_even_onto_a_make_up_saturday(wired, standin, worker):
    from click.testing import CliRunner

    from bot.cli import cli
    # 2031 is unknown to the holiday data: say 1 March 2031 (a Saturday) is worked.
    at(wired, date(2031, 2, 20))
    result = CliRunner().invoke(cli, ["push-date", "--month", "2031-03", "--on", "2031-03-01"], obj=wired,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    sched = Scheduler(wired, worker)
    live(wired, sched, date(2031, 3, 1), date(2031, 3, 1))
    assert len(received(standin, "2031年3月重点工作提醒单")) == BRANCHES
    assert not received(standin, "截止提醒")  # only the sheet on a forced weekend day
    live(wired, sched, date(2031, 3, 3), date(2031, 3, 3))  # Monday: not pushed twice
    assert len(received(standin, "2031年3月重点工作提醒单")) == BRANCHES


def test_push_date_refuses_a_day_outside_the_month(wired):
    import pytest
    from click.testing import CliRunner

    from bot.cli import UsageError, cli
    with pytest.raises(UsageError, match="不在 2027-03 内"):
        CliRunner().invoke(cli, ["push-date", "--month", "2027-03", "--on", "2027-04-01"], obj=wired,
                           catch_exceptions=False)


def test_a_quarterly_duty_is_carried_and_reminded_until_the_quarters_end(wired, standin, worker):
    from storage.month import Month
    from storage.tasks import TaskBook
    with wired.sessions() as s:
        branch = s.scalar(select(Organization).where(Organization.code == "ZB0002"))
        owed = [bt.task.title for bt in TaskBook(s, Month(2027, 3), [branch]).owed(branch)]
    assert "召开支部党员大会" in owed  # January's duty, due 31 March, still on March's sheet
    assert "召开支部委员会会议" not in owed  # a past monthly duty is not piled up
    live(wired, Scheduler(wired, worker), date(2027, 3, 30), date(2027, 3, 30))
    reminded = received(standin, "截止提醒")
    assert any("1月第" in str(r["body"]) and "召开支部党员大会" in str(r["body"]) for r in reminded)
    month_end = [r for r in reminded if "召开支部委员会会议" in str(r["body"])]  # March's, due the 31st
    assert len(month_end) == BRANCHES


def test_the_failure_digest_covers_everything_since_the_last_one_weekends_included(wired, standin, worker):
    """Friday's digest, then failures on Friday afternoon and on Saturday (a
    staff 催办 goes out at once, weekend or not): Monday's digest has both,
    and nothing it already reported."""
    from storage.outbox import Message, enqueue
    sched = Scheduler(wired, worker)
    set_group_address(wired, "ZB0002", "bad-key")

    def fail_now(period):
        with transaction(wired.sessions) as s:
            enqueue(s, [Message("org:ZB0002", "notice", period, f"通知 {period}")], wired.clock.now())
        sched.deliver()

    at(wired, date(2026, 12, 4), 8, 10)   # Friday morning, before the digest
    fail_now("thursday-night")
    live(wired, sched, date(2026, 12, 4), date(2026, 12, 4))
    friday = received(standin, "发送失败")
    assert friday and all("thursday-night" in str(r["body"]) for r in friday)
    at(wired, date(2026, 12, 4), 15, 10)  # Friday afternoon, after it
    fail_now("friday-afternoon")
    at(wired, date(2026, 12, 5), 11, 10)  # Saturday
    fail_now("saturday")
    live(wired, sched, date(2026, 12, 5), date(2026, 12, 7))
    monday = [r for r in received(standin, "发送失败") if r not in friday]
    assert {r["to"] for r in monday} == {"s7001", "s7002", "s7003"}
    for r in monday:
        body = str(r["body"])
        assert "friday-afternoon" in body and "saturday" in body and "thursday-night" not in body
