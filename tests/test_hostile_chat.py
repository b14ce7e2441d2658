"""Issue 17, the chat rows (4, 6, 7, 8, 10, 11): careless and hostile chat
input, through real encrypted callbacks. Each test failed before the fix.
A written command is acted on once and only as written; a refusal says
why; a reply always fits one WeCom message (2,048 bytes)."""
import re
from datetime import datetime

import pytest
from sqlalchemy import func, select

from bot.cli import main
from handlers.dispatch import FAILED
from storage.db import transaction
from storage.models import Delivery, Meeting, Report, Task
from storage.month import Month
from storage.outbox import enqueue

SECRETARY = "u700001"   # ZB0001 书记
ORG = "s7001"           # 组织部
COMMITTEE = "s7004"     # 县直机关工委: ZB0001, ZB0002, ZB0012, ZB0028, ZB0030, ZB0033
COMMITTEE_BRANCHES = 6
ALL_BRANCHES = 36
REPLY_BYTES = 2048


def short(value) -> str:
    """A test id that stays readable when the input is kilobytes long."""
    return str(value)[:16]


def count(county, model, *where):
    with county.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


# ---- row 4: a committee's bulletin and the county's are different messages -------------
def test_a_committees_bulletin_does_not_swallow_the_countys(wecom, county):
    first = wecom.say(COMMITTEE, "通报 2026-11 发送")
    assert f"发送到 {COMMITTEE_BRANCHES} 个支部群" in first
    county_reply = wecom.say(ORG, "通报 2026-11 发送")
    assert f"发送到 {ALL_BRANCHES} 个支部群" in county_reply and "此前" not in county_reply
    with county.sessions() as s:
        rows = s.execute(select(Delivery.target, Delivery.body).where(Delivery.period == "2026-11")).all()
    to_zb0001 = [body for target, body in rows if target == "org:ZB0001"]
    assert len(to_zb0001) == 2  # both bulletins reach a branch under the committee
    assert len(rows) == ALL_BRANCHES + COMMITTEE_BRANCHES
    assert "此前已发送到这 6 个支部群" in wecom.say(COMMITTEE, "通报 2026-11 发送")


def test_the_send_reply_is_truthful_when_some_groups_already_have_it(wecom, county):
    from handlers.commands.bulletin import bulletin_messages
    with transaction(county.sessions) as s:  # two groups got the committee's bulletin earlier
        from storage.orgs import active_branches
        early = active_branches(s, ["ZB0001", "ZB0002"])
        enqueue(s, bulletin_messages("DW01", early, Month(2026, 11), "早先的通报"), county.clock.now())
    reply = wecom.say(COMMITTEE, "通报 2026-11 发送")
    assert "发送到 4 个支部群" in reply and "另外 2 个支部群此前已收到" in reply


def test_the_cli_and_chat_send_the_countys_bulletin_once(wecom, county):
    from click.testing import CliRunner
    from bot.cli import cli
    result = CliRunner().invoke(cli, ["bulletin", "--month", "2026-11", "--send"], obj=county,
                                catch_exceptions=False)
    assert f"已排队发送到 {ALL_BRANCHES} 个支部群" in result.output
    assert "未重复发送" in wecom.say(ORG, "通报 2026-11 发送")
    assert count(county, Delivery, Delivery.period == "2026-11") == ALL_BRANCHES


# ---- row 6: a length policy; replies fit one message ----------------------------------------
def test_an_overlong_note_is_refused_not_stored_or_cut(wecom, county):
    reply = wecom.say(SECRETARY, "完成 1 " + "已排查" * 200)
    assert "说明太长（600字），最多500字" in reply
    assert count(county, Report) == 0
    exactly = "查" * 500
    assert "已记录" in wecom.say(SECRETARY, f"完成 1 {exactly}")
    with county.sessions() as s:
        assert s.scalar(select(Report.note)) == exactly  # stored as written, not cut


def test_a_huge_message_is_answered_without_being_read(wecom, county):
    reply = wecom.say(SECRETARY, "完成 1 " + "很长" * 3000)
    assert "消息太长" in reply and count(county, Report) == 0


def test_correcting_a_long_note_fits_one_passive_reply(wecom, county):
    assert "已记录" in wecom.say(SECRETARY, "完成 1 " + "旧" * 500)
    reply = wecom.say(SECRETARY, "更正 1 " + "新" * 500)
    assert len(reply.encode()) <= REPLY_BYTES
    assert "原记录（11月16日 10:17）：旧旧" in reply and "新记录" in reply and "原记录已保留" in reply
    with county.sessions() as s:
        assert s.scalars(select(Report.note).order_by(Report.id)).all()[-1] == "新" * 500


def test_a_legacy_huge_note_is_quoted_short(wecom, county):
    from storage.members import member_by_userid
    from storage.orgs import active_branches
    from storage.reports import add_report
    with transaction(county.sessions) as s:  # stored before there were limits
        task = s.scalar(select(Task).where(Task.month == "2026-11", Task.number == 1))
        add_report(s, task, active_branches(s, ["ZB0001"])[0], member_by_userid(s, SECRETARY).id,
                   "旧" * 230_000, county.clock.now(), None)
    reply = wecom.say(SECRETARY, "更正 1 到会9人")
    assert len(reply.encode()) <= REPLY_BYTES and "新记录（11月16日 10:17）：到会9人" in reply


def test_a_legacy_huge_note_fits_an_excel_cell_in_the_ledger(wecom, county, tmp_path):
    from click.testing import CliRunner
    from openpyxl import load_workbook
    from bot.cli import cli
    from storage.members import member_by_userid
    from storage.orgs import active_branches
    from storage.reports import add_report
    with transaction(county.sessions) as s:  # 690 KB, as stored before there were limits
        task = s.scalar(select(Task).where(Task.month == "2026-11", Task.number == 1))
        add_report(s, task, active_branches(s, ["ZB0001"])[0], member_by_userid(s, SECRETARY).id,
                   "长" * 230_000, county.clock.now(), None)
    out = tmp_path / "ledger.xlsx"
    result = CliRunner().invoke(cli, ["ledger", "--branch", "ZB0001", "--from", "2026-11", "--to", "2026-11",
                                      "-o", str(out)], obj=county, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    cells = [c.value for sheet in load_workbook(out) for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    longest = max(cells, key=len)
    assert len(longest) <= 32_767 and "原文共 230,000 字" in longest


def test_publish_title_and_content_are_bounded_and_one_message_a_group(wecom, county):
    assert "任务内容太长" in wecom.say(ORG, "发布 冬训 截止 2026-12-10 " + "内容" * 300)
    assert "任务标题太长" in wecom.say(ORG, "发布 " + "标" * 51 + " 截止 2026-12-10")
    assert count(county, Task, Task.title == "冬训") == 0
    assert "已发布" in wecom.say(ORG, "发布 " + "标" * 50 + " 截止 2026-12-10 " + "容" * 500)
    with county.sessions() as s:
        bodies = s.scalars(select(Delivery.body).where(Delivery.purpose.like("task-%"))).all()
    assert len(bodies) == ALL_BRANCHES and all(len(b.encode()) <= REPLY_BYTES for b in bodies)


@pytest.mark.parametrize("text", ["会议 " + "支" * 3000 + " 2026-11-02", "退回 1 ZB0001 " + "缺" * 300,
                                  "签到 " + "在" * 300, "会议 支委会 2026-11-02 " + "说" * 501], ids=short)
def test_every_field_refuses_overlong_input_in_a_fitting_reply(wecom, text):
    user = ORG if text.startswith("退回") else SECRETARY
    reply = wecom.say(user, text)
    assert ("太长" in reply or "不认识" in reply) and len(reply.encode()) <= REPLY_BYTES


# ---- rows 7 and 8: the task reference is read whole or not at all ---------------------------
@pytest.mark.parametrize("text, why", [
    ("完成 0月第1项", "没有0月"), ("完成 0-1", "没有0月"),
    ("完成 第一千项", "不是有效的任务编号"), ("完成 1,2", "一次只能写一项"), ("完成 1、2 已开会", "一次只能写一项"),
    ("完成 1.5", "没看懂“1.5”"), ("完成 1和2", "没看懂"),
    ("完成 99999999999999999999", "不是有效的任务编号"), ("完成 " + "9" * 5000, "消息太长"),
    ("完成 一万亿", "不是有效的任务编号"), ("更正 1,2 到会9人", "一次只能写一项"),
], ids=short)
def test_done_acts_only_on_the_task_as_written(wecom, county, text, why):
    reply = wecom.say(SECRETARY, text)
    assert why in reply and reply != FAILED
    assert count(county, Report) == 0


def test_a_note_may_follow_a_comma_or_start_with_a_count(wecom, county):
    assert "已记录：第1项" in wecom.say(SECRETARY, "完成 1，2人到会")
    with county.sessions() as s:
        assert s.scalar(select(Report.note)) == "2人到会"


@pytest.mark.parametrize("user, text, why", [
    (ORG, "催办 1,2", "一次只能写一项"), (ORG, "进度 1,2", "一次只能写一项"),
    (ORG, "催办 99999999999999999999", "不是有效的任务编号"),
    (SECRETARY, "会议 支委会 2026-11-02 出席 99999999999999999999/99999999999999999999", "不合理"),
    (SECRETARY, "会议 支委会 2026-11-02 出席 5/99999", "不合理"),
])
def test_huge_or_listed_numbers_get_a_reason_not_a_failure(wecom, county, user, text, why):
    reply = wecom.say(user, text)
    assert why in reply and reply != FAILED
    assert count(county, Meeting) == 0 and count(county, Delivery) == 0


# ---- row 10: dates within 2000–2100, shown with their year ---------------------------------
@pytest.mark.parametrize("user, text, why", [
    (SECRETARY, "会议 支委会 0001-01-01", "年份不对"),
    (SECRETARY, "会议 支委会 2026-11-02 出席 0/0", "至少 1 人"),
    (ORG, "发布 远期任务 截止 9999-12-31", "年份不对"),
    (ORG, "发布 远期任务 截止 2101-01-01", "年份不对"),
])
def test_dates_and_counts_outside_sane_ranges_are_refused(wecom, county, user, text, why):
    assert why in wecom.say(user, text)
    assert count(county, Meeting) == 0 and count(county, Task, Task.title == "远期任务") == 0


def test_a_deadline_in_another_year_is_shown_with_its_year(wecom, county):
    reply = wecom.say(ORG, "发布 跨年任务 截止 2027-01-15 对象 ZB0001")
    assert "截止2027年1月15日（周五）" in reply
    assert "截止2027年1月15日" in wecom.say(SECRETARY, "任务")
    assert "截止11月27日（周五）" in wecom.say(SECRETARY, "任务")  # this year's: no year


@pytest.mark.parametrize("text", ["0000-01", "9999-12", "1999-12", "2101-01"])
def test_the_month_type_refuses_years_outside_the_range(text):
    with pytest.raises(ValueError):
        Month.iso(text)
    assert Month.parse(text) is None
    assert Month(2100, 12).end.year == 2101 and Month.iso("2000-01").first_day.year == 2000


@pytest.mark.parametrize("args", [["ledger", "--from", "0000-01", "-o", "x.xlsx"],
                                  ["bulletin", "--month", "9999-12"]])
def test_the_cli_names_a_year_out_of_range(tmp_path, monkeypatch, capsys, args):
    monkeypatch.setenv("ZHIBU_CONFIG", str(tmp_path / "none.yaml"))
    (tmp_path / "none.yaml").write_text("database:\n  url: sqlite:///" + str(tmp_path / "c.db") + "\n")
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "年份超出范围" in err and "Traceback" not in err


# ---- row 11: a committee asking about a task aimed at none of its branches ------------------
def test_a_committee_learns_nothing_of_another_subtrees_task(wecom, county):
    published = wecom.say(ORG, "发布 乡镇机密专项 截止 2026-12-01 对象 ZB0003")
    number = re.search(r"已发布第(\d+)项", published).group(1)
    with county.sessions() as s:
        before = s.scalar(select(func.count()).select_from(Delivery))
    for verb in ("催办", "进度"):
        reply = wecom.say(COMMITTEE, f"{verb} {number}")
        assert reply == f"第{number}项不涉及你下属的支部。"
        assert "乡镇机密专项" not in reply
    assert count(county, Delivery) == before


def test_staff_outside_the_task_may_not_return_it(wecom, county):
    county.clock.at = datetime(2026, 11, 16, 10, 17)
    published = wecom.say(ORG, "发布 两个支部 截止 2026-12-01 对象 ZB0001")
    number = re.search(r"已发布第(\d+)项", published).group(1)
    assert "不涉及县" in wecom.say(ORG, f"退回 {number} ZB0002 缺材料")
