"""The ledger's marks (opened with openpyxl) and the bulletin's ranking on a
crafted month."""
from datetime import date, datetime

from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import cli
from handlers.render.bulletin import bulletin_sheets, render_bulletin
from handlers.render.ledger import ledger_rows
from storage.bulletin import MissingMeeting, OverdueTask, build_bulletin
from storage.ledger import build_ledgers
from storage.orgs import active_branches
from storage.models import Member
from storage.month import Month

SECRETARY, OTHER = "u700001", "u700012"   # ZB0001, ZB0002


def rows_of(path, sheet):
    return list(load_workbook(path)[sheet].iter_rows(values_only=True))


def test_ledger_marks_late_corrected_and_backfilled_records(wecom, county, tmp_path):
    wecom.say(SECRETARY, "完成 2 支委会已开")                      # 16 Nov, on time
    wecom.say(SECRETARY, "会议 支委会 2026-11-13 出席 1/1")           # timely
    wecom.say(SECRETARY, "会议 党小组会 2026-10-20 出席 5/6")         # 27 days later: back-filled
    county.clock.advance(days=12)                                       # 28 Nov, 11:17
    wecom.say(SECRETARY, "完成 1 已排查")                               # deadline was 27 Nov
    wecom.say(SECRETARY, "更正 2 支委会已开，到会7人")
    out = tmp_path / "台账.xlsx"
    result = CliRunner().invoke(cli, ["ledger", "--branch", "ZB0001", "--from", "2026-10", "--to", "2026-11",
                                      "-o", str(out)], obj=county, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    assert book.sheetnames == ["汇总", "ZB0001 县财政局机关党支部", "党员简历 ZB0001"]
    sheet = book["ZB0001 县财政局机关党支部"]
    assert sheet.freeze_panes == "A2" and sheet.column_dimensions["C"].width >= 30
    header, *rows = rows_of(out, "ZB0001 县财政局机关党支部")
    assert header[:6] == ("类别", "月份", "事项", "日期/截止", "状态", "登记时间（服务器）")
    by_item = {}
    for row in rows:
        by_item.setdefault(row[2], []).append(row)
    [late] = by_item["11月第1项 排查软弱涣散基层党组织"]
    assert late[5] == datetime(2026, 11, 28, 10, 17) and "逾期上报" in late[9] and late[6] == "吕丽刚"
    old, new = by_item["11月第2项 召开支部委员会会议"]
    assert old[4] == "历史版本" and "已被更正" in old[9] and old[5] == datetime(2026, 11, 16, 10, 17)
    assert new[4] == "已上报" and "更正" in new[9] and new[7] == "支委会已开，到会7人"
    [timely] = by_item["支委会"]
    assert timely[3] == datetime(2026, 11, 13) and not timely[9]
    [backfilled] = by_item["党小组会"]
    assert backfilled[3] == datetime(2026, 10, 20) and backfilled[5] == datetime(2026, 11, 16, 10, 17)
    assert "补记录" in backfilled[9] and "27 天" in backfilled[9]
    summary = rows_of(out, "汇总")
    assert summary[0][:2] == ("支部编码", "支部名称") and summary[1][0] == "ZB0001"
    assert summary[1][7] == 1 and summary[1][8] == 1  # one back-filled meeting, one correction
    lean = tmp_path / "台账-不含党员简历.xlsx"  # --no-members: the branches' records only
    result = CliRunner().invoke(cli, ["ledger", "--branch", "ZB0001", "--from", "2026-10", "--to", "2026-11",
                                      "--no-members", "-o", str(lean)], obj=county, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert load_workbook(lean).sheetnames == ["汇总", "ZB0001 县财政局机关党支部"]
    assert rows_of(lean, "ZB0001 县财政局机关党支部") == [header, *rows]


def test_bulletin_ranks_by_on_time_completion(wecom, county, tmp_path):
    # ZB0001 reports everything on time; ZB0002 reports one task late; the rest nothing.
    with county.sessions() as s:
        from storage.models import Task
        numbers = s.scalars(select(Task.number).where(Task.month == "2026-11", Task.target_kind == "all")
                            .order_by(Task.number)).all()
    for n in numbers:
        wecom.say(SECRETARY, f"完成 {n} 已完成")
    wecom.say(SECRETARY, "会议 支委会 2026-11-10 出席 1/1")
    wecom.say(SECRETARY, "会议 党小组会 2026-11-11 出席 5/6")
    wecom.say(SECRETARY, "会议 主题党日 2026-11-12 缺席 邱国")  # 主题党日 is in the monthly quota (issue 12)
    county.clock.at = datetime(2026, 11, 30, 10, 0)
    wecom.say(OTHER, "完成 1 迟了")
    mobile_checked = "u700048"  # a mobile member of ZB0004
    wecom.say(mobile_checked, "签到")
    county.clock.at = datetime(2026, 12, 2, 9, 0)
    out = tmp_path / "通报.xlsx"
    result = CliRunner().invoke(cli, ["bulletin", "--month", "2026-11", "-o", str(out)], obj=county,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "1. 县财政局机关党支部：按时完成 6/6" in text
    ranking = rows_of(out, "支部排名")
    assert ranking[1][1] == "ZB0001" and ranking[-1][1] != "ZB0002"
    zb2 = next(r for r in ranking if r[1] == "ZB0002")
    assert zb2[4] == 0 and zb2[5] == 1  # not on time, one late
    assert "召开支部委员会会议" in zb2[7] and "排查软弱涣散" not in zb2[7]  # reported late: not overdue
    assert not ranking[1][7]
    assert ranking[1][8] in ("", None) and "支委会" in zb2[8]  # ZB0001 met its 三会一课 quota
    with county.sessions() as s:
        mobile = s.scalars(select(Member.wecom_userid).where(Member.is_mobile)).all()
    not_checked = rows_of(out, "流动党员未报到")[1:]
    assert len(not_checked) == len(mobile) - 1 and mobile_checked not in {r[3] for r in not_checked}
    zero = {r[1] for r in rows_of(out, "零积分人员")[1:]}
    assert "吕丽刚" not in zero  # attended the 主题党日: points (typing earns none, issue 12)
    assert "邱国" in zero        # absent from it, nothing else: followed up, though not mobile nor 支委
    assert "“三会一课”未达要求的支部（35 个）" in text


# The words the renderers write; none of them may come out of storage.
RENDERED = ("补记录", "逾期", "上报", "更正", "退回", "出席", "签到", "流动党员", "历史版本", "sha256",
            "未下载", "第", "本季度", "（")


def strings_in(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple):  # the records are NamedTuples, nested
        return [s for v in value for s in strings_in(v)]
    return []


def test_ledger_records_are_data_and_the_backfill_rule_is_one(wecom, county):
    assert "补记录" not in wecom.say(SECRETARY, "会议 支委会 2026-11-13 出席 1/1")  # 3 days after: timely
    assert "补记录" in wecom.say(SECRETARY, "会议 党小组会 2026-11-12 出席 5/6")   # 4 days after
    county.clock.advance(days=12)                                                  # 28 Nov
    wecom.say(SECRETARY, "完成 1 已排查")                                          # deadline was 27 Nov
    wecom.say("u700048", "签到")                                                   # 莫娜建 of ZB0004, 厦门
    with county.sessions() as s:
        branches = [b for b in active_branches(s) if b.code in ("ZB0001", "ZB0004")]
        zb1, zb4 = build_ledgers(s, branches, Month(2026, 11), Month(2026, 11), date(2026, 11, 28))
    late, timely = zb1.meetings  # by the day held
    assert (late.kind, late.held_on, late.attended, late.expected) == ("党小组会", date(2026, 11, 12), 5, 6)
    assert (late.lag_days, late.backfilled, timely.lag_days, timely.backfilled) == (4, True, 3, False)
    # Each meeting is also the report of its month's duty (召开支部委员会会议, 召开党小组会: issue 12), on time.
    assert (zb1.backfilled, zb1.reported, zb1.on_time, zb1.tasks_due) == (1, 3, 2, len(zb1.tasks))
    [report] = [t for t in zb1.tasks if t.task.number == 1]
    [version] = report.versions
    assert report.task.deadline == date(2026, 11, 27) and report.state == "reported"
    assert version.late and not version.correction and version.received_at.date() == date(2026, 11, 28)
    [checkin] = zb4.checkins
    assert (checkin.member_name, checkin.city, checkin.day) == ("莫娜建", "厦门", date(2026, 11, 28))
    records = [*zb1.tasks, *zb1.meetings, *zb4.checkins]
    assert not [s for s in strings_in(tuple(records)) if any(word in s for word in RENDERED)]
    rows = {row[2]: row for row in ledger_rows(zb1)}
    assert rows["党小组会"][9] == "补记录（会后 4 天登记）" and rows["支委会"][9] == ""
    assert rows["党小组会"][4] == "出席 5/6"
    assert rows["11月第1项 排查软弱涣散基层党组织"][9] == "逾期上报（截止 2026-11-27）"
    assert ledger_rows(zb4)[-1][2:5] == ("流动党员 莫娜建（厦门）", date(2026, 11, 28), "已签到")


def test_bulletin_records_are_data_rendered_as_before(county):
    with county.sessions() as s:
        b = build_bulletin(s, active_branches(s), Month(2026, 12), date(2027, 1, 15))  # a quarter's last month
        text = render_bulletin(b, "某县委组织部")
        ranking = bulletin_sheets(b)[0]
    nothing_held = [MissingMeeting("支委会", False), MissingMeeting("党小组会", False),
                    MissingMeeting("主题党日", False), MissingMeeting("党员大会", True), MissingMeeting("党课", True)]
    assert all(score.missing_meetings == nothing_held for score in b.branches)  # no meeting logged
    first = next(score for score in b.branches if score.overdue)  # listed first in the message
    task = first.overdue[0]
    assert type(task) is OverdueTask and task.number == 1 and task.title == "召开年度组织生活会准备会，开展谈心谈话"
    assert f"- {first.branch.name}：第1项 {task.title}、第2项" in text
    assert f"- {first.branch.name}：缺支委会、党小组会、主题党日、党员大会（本季度）、党课（本季度）" in text
    row = next(r for r in ranking.rows if r[1] == first.branch.code)
    assert row[7].startswith(f"第1项 {task.title}；第2项") and row[8] == "支委会、党小组会、主题党日、党员大会（本季度）、党课（本季度）"
