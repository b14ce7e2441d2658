"""Mobile members get the month's 主题党日 theme from the plan on its day,
once each, and take part remotely by replying 学习 or 签到 — on a frozen
clock, through real encrypted callbacks."""
from datetime import date, datetime

from sqlalchemy import func, select

from bot.schedule.daily import run_daily
from storage.db import transaction
from storage.models import Delivery, Member, Organization, RemoteParticipation, Task
from storage.month import Quarter

MOBILE = "u700048"     # 莫娜建, mobile member of ZB0004
MOBILE_2 = "u700050"
MEMBER = "u700046"     # 杨娜燕, not mobile


def theme_rows(rt):
    with rt.sessions() as s:
        return s.execute(select(Delivery.target, Delivery.period, Delivery.body)
                         .where(Delivery.purpose == "theme-day").order_by(Delivery.target)).all()


def reachable_mobile(rt):
    with rt.sessions() as s:
        return set(s.scalars(select(Member.wecom_userid).join(Organization, Member.org_id == Organization.id).where(
            Member.is_mobile, Member.active, Member.wecom_userid.is_not(None), Organization.active)))


def test_the_theme_goes_to_each_mobile_member_once_on_its_day(wired):
    with transaction(wired.sessions) as s:
        task = s.scalar(select(Task).where(Task.month == "2026-11", Task.duty == "主题党日"))
        task.note = "重温入党誓词，学习二十届四中全会精神"
        day = task.deadline
    assert day == datetime(2026, 11, 30).date()  # the plan's deadline: the month's last working day
    for before in (datetime(2026, 11, 16, 9, 5), datetime(2026, 11, 27, 9, 5)):
        wired.clock.at = before
        assert "theme-day" not in run_daily(wired)
    assert theme_rows(wired) == []
    wired.clock.at = datetime(2026, 11, 30, 9, 5)
    mobile = reachable_mobile(wired)
    assert len(mobile) > 8 and run_daily(wired)["theme-day"] == len(mobile)
    rows = theme_rows(wired)
    assert {t for t, _, _ in rows} == {f"member:{m}" for m in mobile} and {p for _, p, _ in rows} == {"2026-11"}
    mo = dict((t, b) for t, _, b in rows)[f"member:{MOBILE}"]
    assert mo.startswith("莫娜建同志，您好！2026年11月主题党日（11月30日）：**开展主题党日活动**\n重温入党誓词")
    assert "回复“学习 内容”，或回复“签到”" in mo
    assert "theme-day" not in run_daily(wired)  # the same day again: once
    wired.clock.at = datetime(2026, 12, 1, 9, 5)
    assert "theme-day" not in run_daily(wired)  # December's day is still to come
    assert len(theme_rows(wired)) == len(mobile)


def test_a_missed_day_is_caught_up_on_a_later_working_day_of_the_month_once(wired):
    with transaction(wired.sessions) as s:  # a plan that puts the day earlier than the month's end
        s.scalar(select(Task).where(Task.month == "2026-11", Task.duty == "主题党日")).deadline = date(2026, 11, 20)
    wired.clock.at = datetime(2026, 11, 22, 9, 5)  # the scheduler was down on Friday; Sunday: no push
    assert "theme-day" not in run_daily(wired)
    wired.clock.at = datetime(2026, 11, 23, 9, 5)
    assert run_daily(wired)["theme-day"] == len(reachable_mobile(wired))
    assert "（11月20日）" in theme_rows(wired)[0][2]
    wired.clock.at = datetime(2026, 11, 24, 9, 5)
    assert "theme-day" not in run_daily(wired)


def remote(rt):
    with rt.sessions() as s:
        return s.execute(select(Member.wecom_userid, RemoteParticipation.via, RemoteParticipation.day)
                         .join(Member, RemoteParticipation.member_id == Member.id)
                         .order_by(Member.wecom_userid)).all()


def test_replying_study_or_checkin_counts_as_taking_part_remotely(wecom, county):
    # 莫娜建 and 叶春志 missed the branch's own 主题党日
    assert "已记录主题党日" in wecom.say("u700041", "会议 主题党日 2026-11-13 出席 30/32 缺席 莫娜建、叶春志")
    county.clock.at = datetime(2026, 11, 27, 20, 0)  # before the day: an ordinary check-in
    assert "远程参加" not in wecom.say(MOBILE, "签到")
    county.clock.at = datetime(2026, 11, 30, 20, 0)
    reply = wecom.say(MOBILE, "签到")
    assert "签到成功" in reply and "已记为远程参加2026年11月主题党日「开展主题党日活动」。" in reply
    assert "远程参加" not in wecom.say(MOBILE, "学习 党章第二章")  # once a theme
    assert "已记为远程参加" in wecom.say(MOBILE_2, "学习 二十届四中全会公报")
    assert "主题党日：参加 0 次 / 共 1 次，远程参加 1 次" in wecom.say(MOBILE, "我的")
    assert "远程参加" not in wecom.say(MEMBER, "学习 党章")  # not a mobile member: attends in person
    d = datetime(2026, 11, 30).date()
    assert remote(county) == [(MOBILE, "checkin", d), (MOBILE_2, "study", d)]
    from storage.radar import radar
    with county.sessions() as s:
        scores = {x.name: x for x in radar(s, Quarter(2026, 4), ["ZB0004"])}
    assert scores["莫娜建"].stats.theme_attended == 0 and scores["莫娜建"].stats.theme_remote == 1
    assert scores["莫娜建"].scores[2] == 100  # taking part remotely counts as attending
    assert scores["叶春志"].stats.theme_remote == 0 and scores["叶春志"].scores[2] == 0
    assert scores["杨娜燕"].stats.theme_remote == 0 and scores["杨娜燕"].scores[2] == 100
    with county.sessions() as s:
        assert s.scalar(select(func.count()).select_from(RemoteParticipation)) == 2


def test_the_plans_theme_and_day_are_what_mobile_members_get(wired, wecom):
    """examples/plan-2027.yaml: `day: 15`, March's theme 学雷锋志愿服务, July's
    on its own day (the 1st). The push goes on that day with that theme;
    replies from that day on count, naming the theme."""
    wired.clock.at = datetime(2027, 3, 12, 9, 5)  # Friday before the day
    assert "theme-day" not in run_daily(wired)
    wired.clock.at = datetime(2027, 3, 12, 20, 0)
    assert "远程参加" not in wecom.say(MOBILE, "学习 雷锋日记")
    wired.clock.at = datetime(2027, 3, 15, 9, 5)  # Monday the 15th
    assert run_daily(wired)["theme-day"] == len(reachable_mobile(wired))
    body = dict((t, b) for t, p, b in theme_rows(wired) if p == "2027-03")[f"member:{MOBILE}"]
    assert body.startswith("莫娜建同志，您好！2027年3月主题党日（3月15日）：**学雷锋志愿服务**\n固定每月 15 日前后")
    wired.clock.at = datetime(2027, 3, 15, 20, 0)
    assert "已记为远程参加2027年3月主题党日「学雷锋志愿服务」。" in wecom.say(MOBILE, "学习 雷锋精神")
    assert "已记为远程参加2027年3月主题党日「学雷锋志愿服务」。" in wecom.say(MOBILE_2, "签到")
    wired.clock.at = datetime(2027, 7, 1, 9, 5)  # Thursday 1 July: July's own day
    run_daily(wired)
    july = [b for _, p, b in theme_rows(wired) if p == "2027-07"]
    assert len(july) == len(reachable_mobile(wired))
    assert all("2027年7月主题党日（7月1日）：**庆祝建党 106 周年，重温入党誓词**" in b for b in july)
