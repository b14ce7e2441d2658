from datetime import date

import pytest
from sqlalchemy import select

from storage.db import transaction
from storage.models import Task
from storage.importers.plan_import import import_plan
from storage.importers.plan_read import PlanError, parse_plan
from storage.importers.roster_import import import_roster
from tests.conftest import PLAN_2026, PLAN_2027, ROSTER_XLSX


def load(rt, path):
    with transaction(rt.sessions) as session:
        return import_plan(session, path, rt.clock.now())


def tasks(rt, month):
    with rt.sessions() as s:
        return s.scalars(select(Task).where(Task.month == month).order_by(Task.number)).all()


def test_sample_plan_expands_months_and_recurring_duties(runtime):
    load(runtime, PLAN_2027)
    march = tasks(runtime, "2027-03")
    titles = [t.title for t in march]
    assert titles[:2] == ["开展“学雷锋”志愿服务主题党日", "核对全国党员管理信息系统党员信息"]
    assert {"召开支部委员会会议", "召开党小组会", "开展主题党日活动", "流动党员每月报到"} <= set(titles)
    # Quarterly duties fall in the quarter's first month, due at its end.
    assert "召开支部党员大会" not in titles
    april = {t.title: t for t in tasks(runtime, "2027-04")}
    assert april["召开支部党员大会"].recurring and april["召开支部党员大会"].deadline.month == 6
    # targets, evidence, a given deadline, numbers 1..n without gaps
    check = march[1]
    assert check.deadline == date(2027, 3, 25) and check.target_kind == "all"
    assert [t.number for t in march] == list(range(1, len(march) + 1))
    mobile = next(t for t in march if t.title == "流动党员每月报到")
    assert (mobile.target_kind, mobile.target_values) == ("categories", "农村,社区")


def test_missing_deadline_is_the_months_last_working_day_with_holidays(runtime):
    text = """year: 2026
months:
  1:
    - title: 一月任务
  5:
    - title: 五月任务
  9:
    - title: 九月任务
"""
    spec = parse_plan(text, "plan.yaml")
    deadlines = {t.title: t.deadline for t in spec.tasks}
    assert deadlines["一月任务"] == date(2026, 1, 30)   # 31st is a Saturday
    assert deadlines["五月任务"] == date(2026, 5, 29)   # 30th/31st a weekend
    assert deadlines["九月任务"] == date(2026, 9, 30)   # a Wednesday, worked


def test_a_make_up_workday_counts_as_a_working_day():
    # 2026-02-28 is a Saturday worked in exchange for the Spring Festival.
    spec = parse_plan("year: 2026\nmonths:\n  2:\n    - title: 二月任务\n", "p.yaml")
    assert spec.tasks[0].deadline == date(2026, 2, 28)


def test_unknown_holiday_year_falls_back_to_weekdays(caplog):
    spec = parse_plan("year: 2031\nmonths:\n  5:\n    - title: 五月任务\n", "p.yaml")
    assert spec.tasks[0].deadline == date(2031, 5, 30)  # Friday; 31st is a Saturday
    assert "2031" in caplog.text


def test_reimport_is_idempotent_and_edits_update_in_place(runtime, tmp_path):
    first = load(runtime, PLAN_2026)
    again = load(runtime, PLAN_2026)
    assert again.added == 0 and again.updated == 0 and again.unchanged == first.added
    numbers = {t.title: t.number for t in tasks(runtime, "2026-12")}
    edited = tmp_path / "plan.yaml"
    edited.write_text(PLAN_2026.read_text("utf-8").replace("2026-12-21", "2026-12-22")
                      + "    - title: 新增任务\n      targets: all\n", encoding="utf-8")
    result = load(runtime, edited)
    assert (result.added, result.updated) == (1, 1)
    december = {t.title: t for t in tasks(runtime, "2026-12")}
    assert december["党费收缴情况年度核对"].deadline == date(2026, 12, 22)
    assert all(december[t].number == n for t, n in numbers.items())  # numbers never move
    assert december["新增任务"].number == max(numbers.values()) + 1


@pytest.mark.parametrize("body, message", [
    ("months:\n  3:\n    - title: x\n      deadline: 2027-02-01\n", "第 5 行：截止日期 2027-02-01 早于 2027 年 3 月"),
    ("months:\n  3:\n    - title: x\n      targets: [农村, ZB0001]\n", "第 5 行：对象“农村、ZB0001”"),
    ("months:\n  3:\n    - title: x\n      targets: [ZB9999]\n", "第 5 行：对象中的支部编码 ZB9999 不存在"),
    ("months:\n  3:\n    - deadline: 2027-03-05\n", "第 5 行：缺少 title"),
    ("months:\n  13:\n    - title: x\n", "月份“13”应为 1–12"),
    ("recurring:\n  - title: x\n    every: week\n", "第 4 行：every“week”无效"),
    ("months:\n  3:\n    - title: x\n      deadline: 2027-3-5x\n", "截止日期“2027-3-5x”无效"),
])
def test_plan_errors_name_the_line(runtime, tmp_path, body, message):
    with transaction(runtime.sessions) as session:
        import_roster(session, ROSTER_XLSX, runtime.clock.now())
    path = tmp_path / "plan.yaml"
    path.write_text("year: 2027\nissuer: 组织部\n" + body, encoding="utf-8")
    with pytest.raises(PlanError) as err:
        load(runtime, path)
    assert message in str(err.value)
    assert tasks(runtime, "2027-03") == []


def test_branch_code_targets_are_checked_against_the_roster(runtime, tmp_path):
    with transaction(runtime.sessions) as session:
        import_roster(session, ROSTER_XLSX, runtime.clock.now())
    path = tmp_path / "plan.yaml"
    path.write_text("year: 2027\nmonths:\n  3:\n    - title: 专项\n      targets: [ZB0001, ZB0002]\n",
                    encoding="utf-8")
    load(runtime, path)
    task = tasks(runtime, "2027-03")[0]
    assert (task.target_kind, task.target_values) == ("codes", "ZB0001,ZB0002")


def test_a_plan_starting_in_november_does_not_invent_earlier_duties():
    spec = parse_plan(PLAN_2026.read_text("utf-8"), "plan-2026.yaml")
    months = {t.month for t in spec.tasks}
    assert months == {"2026-11", "2026-12"}
    quarterly = [t for t in spec.tasks if t.title == "召开支部党员大会"]
    assert [(t.month, t.deadline) for t in quarterly] == [("2026-11", date(2026, 12, 31))]


def test_the_theme_day_has_its_theme_and_day_from_the_plan(runtime):
    load(runtime, PLAN_2027)
    by_month = {t.month: t for t in tasks_of_duty(runtime, "主题党日")}
    assert len(by_month) == 12
    march, july = by_month["2027-03"], by_month["2027-07"]
    assert (march.theme, march.held_on, march.deadline) == ("学雷锋志愿服务", date(2027, 3, 15), date(2027, 3, 31))
    assert (july.theme, july.held_on) == ("庆祝建党 106 周年，重温入党誓词", date(2027, 7, 1))  # its own day
    others = [t for t in tasks_of_duty(runtime, "支委会")]
    assert others and all(t.theme is None and t.held_on is None for t in others)


def test_a_day_past_the_month_end_is_its_last_day_and_unlisted_months_keep_the_title():
    spec = parse_plan("year: 2027\nrecurring:\n  - title: 开展主题党日活动\n    kind: 主题党日\n    every: month\n"
                      "    day: 31\n    themes:\n      4: 清明祭英烈\n", "plan.yaml")
    days = {t.month: (t.theme, t.held_on) for t in spec.tasks}
    assert days["2027-02"] == (None, date(2027, 2, 28)) and days["2027-04"] == ("清明祭英烈", date(2027, 4, 30))


def tasks_of_duty(rt, duty):
    with rt.sessions() as s:
        return s.scalars(select(Task).where(Task.duty == duty).order_by(Task.month)).all()


THEME_HEAD = "recurring:\n  - title: 开展主题党日活动\n    kind: 主题党日\n    every: month\n"


@pytest.mark.parametrize("body, message", [
    (THEME_HEAD + "    day: 十五\n", "第 7 行：day（主题党日日期）“十五”无效，应为每月几号（1–31 的整数）"),
    (THEME_HEAD + "    day: 0\n", "第 7 行：day（主题党日日期）“0”无效"),
    (THEME_HEAD + "    themes:\n      3: 学雷锋\n      13: 多余\n", "第 9 行：themes（各月主题）中的月份“13”应为 1–12"),
    (THEME_HEAD + "    themes:\n      3: 学雷锋\n      4:\n", "第 9 行：themes（各月主题）中 4 月的主题为空"),
    (THEME_HEAD + "    themes:\n      3: " + "长" * 301 + "\n", "第 8 行：themes（各月主题）中 3 月的主题太长（301字），最多300字"),
    (THEME_HEAD + "    themes:\n      3: {theme: 学雷锋, day: 40}\n", "第 8 行：3 月的 day（主题党日日期）“40”无效"),
    (THEME_HEAD + "    themes: 学雷锋\n", "第 7 行：themes（各月主题）应按月份列出"),
    ("recurring:\n  - title: 召开支部委员会会议\n    kind: 支委会\n    every: month\n    day: 15\n",
     "第 4 行：day（活动日）和 themes（各月主题）只用于每月的主题党日"),
])
def test_theme_day_errors_name_the_row(runtime, tmp_path, body, message):
    path = tmp_path / "plan.yaml"
    path.write_text("year: 2027\nissuer: 组织部\n" + body, encoding="utf-8")
    with pytest.raises(PlanError) as err:
        load(runtime, path)
    assert message in str(err.value)
    assert tasks(runtime, "2027-03") == []
