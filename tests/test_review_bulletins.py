"""述职评议 and the quarterly / yearly bulletins on a crafted first quarter
of 2027 (issue 14): the review file read back, its figures checked against
the records; the bulletins judged by the monthly rules over each month."""
from datetime import date, datetime

from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import cli
from handlers.render.review import SUMMARY_HEADERS
from storage.models import Meeting, Member, Organization, Report, Task, Volunteer
from storage.orgs import targets

SECRETARY, MEMBER, ORG_STAFF = "u700001", "u700002", "s7001"   # ZB0001's 书记 and a member; 组织部


def tasks_of(county, month: str) -> list[Task]:
    with county.sessions() as s:
        branch = s.scalar(select(Organization).where(Organization.code == "ZB0001"))
        return [t for t in s.scalars(select(Task).where(Task.month == month).order_by(Task.number))
                if targets(t, branch)]


def crafted_quarter(wecom, county) -> dict:
    """ZB0001: January all on time (one returned and resubmitted), February
    one late and the rest never, March nothing; meetings with one
    back-filled; volunteer hours; one applicant; one rectification item
    reported and closed."""
    county.clock.at = datetime(2027, 1, 4, 9, 30)
    january = tasks_of(county, "2027-01")
    for t in january:
        assert "已记录" in wecom.say(SECRETARY, f"完成 {t.number} 已完成")
    assert "已退回" in wecom.say(ORG_STAFF, f"退回 {january[0].number} ZB0001 缺少照片")
    assert "已记录" in wecom.say(SECRETARY, f"完成 {january[0].number} 已补充照片")
    wecom.say(SECRETARY, "会议 支委会 2027-01-04 出席 1/1")
    wecom.say(SECRETARY, "发展 张三 申请 2027-01-04")
    assert "已登记志愿服务" in wecom.say(MEMBER, "志愿 3小时 清扫小区")
    assert "已交办" in wecom.say(ORG_STAFF, "整改 ZB0001 配齐组织委员 截止 2027-01-29")
    item = next(t for t in tasks_of(county, "2027-01") if t.title.startswith("整改"))
    county.clock.at = datetime(2027, 1, 20, 10, 0)
    wecom.say(SECRETARY, f"完成 {item.number} 已配齐")
    assert "已销号" in wecom.say(ORG_STAFF, f"整改 ZB0001 销号 1月第{item.number}项 核实")
    county.clock.at = datetime(2027, 2, 28, 10, 0)  # after every February deadline
    february = tasks_of(county, "2027-02")
    wecom.say(SECRETARY, f"完成 {february[0].number} 迟报")
    wecom.say(SECRETARY, "会议 支委会 2027-02-25 出席 1/1")
    wecom.say(SECRETARY, "会议 党小组会 2027-02-10 出席 5/6")   # 18 days later: back-filled
    county.clock.at = datetime(2027, 3, 30, 10, 0)
    wecom.say(SECRETARY, "会议 支委会 2027-03-30 出席 1/1")
    wecom.say(SECRETARY, "会议 党员大会 2027-03-30 出席 10/11 缺席 秦海")
    county.clock.at = datetime(2027, 4, 6, 9, 0)
    return {"january": january, "february": february, "march": tasks_of(county, "2027-03"), "item": item}


def sheet_rows(path, name):
    return list(load_workbook(path)[name].iter_rows(values_only=True))


def test_review_figures_match_the_records(wecom, county, tmp_path):
    crafted = crafted_quarter(wecom, county)
    out = tmp_path / "述职评议.xlsx"
    result = CliRunner().invoke(cli, ["review", "--year", "2027", "--branch", "ZB0001", "-o", str(out)],
                                obj=county, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert load_workbook(out).sheetnames == ["述职评议", "依据"]
    header, row = sheet_rows(out, "述职评议")[:2]
    assert header == SUMMARY_HEADERS
    got = dict(zip(header, row))
    april = tasks_of(county, "2027-04")
    due = len(crafted["january"]) + len(crafted["february"]) + len(crafted["march"]) + len(april)
    with county.sessions() as s:
        zb = s.scalar(select(Organization.id).where(Organization.code == "ZB0001"))
        first = {}  # task id → its first report (a logged meeting is its duty's report)
        for task_id, at in s.execute(select(Report.task_id, Report.received_at).where(Report.branch_id == zb)
                                     .order_by(Report.id)):
            first.setdefault(task_id, at)
        deadlines = {t.id: t.deadline for t in s.scalars(select(Task).where(Task.id.in_(list(first))))}
        hours = sum(s.scalars(select(Volunteer.hours)))
        meetings = s.scalars(select(Meeting).where(Meeting.branch_id == zb)).all()
    every = crafted["january"] + crafted["february"] + crafted["march"] + april
    assert got["支部编码"] == "ZB0001" and got["书记"] == "吕丽刚" and got["上级党组织"] == "县直机关工委"
    assert got["应报任务"] == due + 1                   # the plan's tasks and the rectification item
    assert got["已上报"] == len(first)
    assert got["按时上报"] == sum(at.date() <= deadlines[t] for t, at in first.items())
    assert crafted["february"][0].id in first and first[crafted["february"][0].id].date() > \
        crafted["february"][0].deadline                                   # the late one is not on time
    assert abs(got["按时完成率"] - got["按时上报"] / got["应报任务"]) < 1e-9
    assert got["逾期未报"] == sum(t.id not in first and t.deadline < date(2027, 4, 6) for t in every)
    assert got["被退回任务"] == 1
    assert got["会议补记录"] == 1 == sum((m.received_at.date() - m.held_on).days > 3 for m in meetings)
    assert got["支委会（达标/应有）"] == "3/4"          # January, February, March of January–April
    assert got["党小组会（达标/应有）"] == "1/4"
    assert got["党员大会（达标/应有）"] == "1/1" and got["党课（达标/应有）"] == "0/1"
    assert got["志愿服务（小时）"] == hours == 3
    assert got["发展：入党申请人"] == 1
    assert (got["整改事项"], got["整改已销号"], got["整改未销号"]) == (1, 1, 0)
    # every figure has its rows: the ledger's, volunteer service, the register, the item
    detail = sheet_rows(out, "依据")[1:]
    kinds = [r[1] for r in detail]
    assert kinds.count("会议") == len(meetings) == 5
    assert kinds.count("志愿服务") == 1 and kinds.count("发展党员") == 1
    assert any(r[1] == "整改事项" and "已销号" in r[5] for r in detail)
    assert sum(1 for r in detail if r[1] == "任务" and r[5] == "逾期未报") == got["逾期未报"]


def test_review_refuses_bad_arguments(county, tmp_path):
    runner = CliRunner()
    done = runner.invoke(cli, ["review", "--year", "27", "-o", str(tmp_path / "r.xlsx")], obj=county)
    assert done.exit_code != 0 and "--year“27”无效" in str(done.exception)
    done = runner.invoke(cli, ["review", "--year", "2027", "--branch", "ZB9999", "-o", str(tmp_path / "r.xlsx")],
                         obj=county)
    assert done.exit_code != 0 and "没有找到支部 ZB9999" in str(done.exception)


def test_quarterly_and_yearly_bulletins(wecom, county, tmp_path):
    crafted = crafted_quarter(wecom, county)
    runner = CliRunner()
    out = tmp_path / "季度通报.xlsx"
    done = runner.invoke(cli, ["bulletin", "--quarter", "2027Q1", "-o", str(out)], obj=county,
                         catch_exceptions=False)
    assert done.exit_code == 0, done.output
    text = done.stdout
    assert "关于2027年第一季度基层党建重点工作完成情况的通报" in text
    ranking = sheet_rows(out, "支部排名")
    zb1 = next(r for r in ranking if r[1] == "ZB0001")
    quarter_tasks = len(crafted["january"]) + len(crafted["february"]) + len(crafted["march"]) + 1
    with county.sessions() as s:
        zb = s.scalar(select(Organization.id).where(Organization.code == "ZB0001"))
        first = {}
        for task_id, at in s.execute(select(Report.task_id, Report.received_at).where(Report.branch_id == zb)
                                     .order_by(Report.id)):
            first.setdefault(task_id, at)
        quarter = {t.id: t.deadline for t in s.scalars(select(Task).where(Task.month.in_(
            ["2027-01", "2027-02", "2027-03"])))}
    on_time = sum(t in quarter and at.date() <= quarter[t] for t, at in first.items())
    late = sum(t in quarter and at.date() > quarter[t] for t, at in first.items())
    assert zb1[3] == quarter_tasks and zb1[4] == on_time and zb1[5] == late >= 1
    unreported = next(t for t in crafted["february"] if t.id not in first)
    assert f"2月第{unreported.number}项 {unreported.title}" in zb1[7]   # overdue, named with its month
    assert "党小组会（2个月）" in zb1[8] and "党课（1个季度）" in zb1[8]  # February's was logged; Jan and Mar not
    assert "支委会" not in zb1[8]
    assert load_workbook(out).sheetnames[-1] == "党建台账事项"
    done = runner.invoke(cli, ["bulletin", "--year", "2027"], obj=county, catch_exceptions=False)
    assert "关于2027年基层党建重点工作完成情况的通报" in done.stdout
    assert "3年以上未发展党员的支部" in done.stdout
    done = runner.invoke(cli, ["bulletin", "--quarter", "2027Q5"], obj=county)
    assert done.exit_code != 0 and "--quarter“2027Q5”无效" in str(done.exception)
    done = runner.invoke(cli, ["bulletin", "--quarter", "2027Q1", "--year", "2027"], obj=county)
    assert done.exit_code != 0 and "只能给一个" in str(done.exception)


def test_the_chat_bulletin_of_a_quarter_or_a_year(wecom, county):
    county.clock.at = datetime(2027, 4, 6, 9, 0)
    assert "关于2027年第一季度基层党建" in wecom.say(ORG_STAFF, "通报 2027Q1")
    assert "关于2026年基层党建" in wecom.say(ORG_STAFF, "通报 2026年")
    assert "用法：通报 2027-03" in wecom.say(ORG_STAFF, "通报 2027Q7")
    reply = wecom.say(ORG_STAFF, "通报 2027Q1 发送")
    assert "2027年第一季度通报已安排发送到 36 个支部群" in reply
    with county.sessions() as s:
        from storage.models import Delivery
        periods = set(s.scalars(select(Delivery.period).where(Delivery.purpose.like("bulletin-%"))))
    assert periods == {"2027Q1"}


# ---- the registers' lists (issue 14): which branches, and a new term clears one ---------

def _csv(path):
    import csv
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _write_csv(path, rows):
    import csv
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _reimport(county, folder, terms: dict[str, tuple[str, str]]):
    from storage.db import transaction
    from storage.importers.roster_import import import_roster
    orgs = _csv(folder / "organizations.csv")
    for row in orgs:
        row["term_start"], row["term_end"] = terms.get(row["code"], ("", ""))
    _write_csv(folder / "organizations.csv", orgs)
    with transaction(county.sessions) as session:
        import_roster(session, folder, county.clock.now())


def _registers(county, tmp_path) -> tuple[dict[str, set[str]], str]:
    out = tmp_path / "registers.xlsx"
    done = CliRunner().invoke(cli, ["bulletin", "--quarter", "2027Q1", "-o", str(out)], obj=county,
                              catch_exceptions=False)
    assert done.exit_code == 0, done.output
    listed: dict[str, set[str]] = {}
    for what, code, _name, _state in sheet_rows(out, "党建台账事项")[1:]:
        listed.setdefault(what, set()).add(code)
    return listed, done.stdout


def test_the_bulletin_lists_the_registers_branches_and_a_new_term_clears_one(wecom, county, roster_copy, tmp_path):
    members = _csv(roster_copy / "members.csv")
    [zb6_secretary] = [m for m in members if m["branch_code"] == "ZB0006" and m["role"] == "书记"]
    zb6_secretary["role"] = "党员"                                # ZB0006's post falls vacant
    _write_csv(roster_copy / "members.csv", members)
    _reimport(county, roster_copy, {"ZB0003": ("2021-01-05", "2026-01-04"),   # ended: 换届 overdue
                                    "ZB0005": ("2024-06-01", "2029-05-31")})  # running
    county.clock.at = datetime(2027, 4, 6, 9, 0)
    # From the roster itself: a branch's latest 入党日期 three years or more before today (2024-04-06).
    branches = {o["code"] for o in _csv(roster_copy / "organizations.csv") if o["type"] == "党支部"}
    latest = {}
    for m in members:
        if m["joined_on"]:
            latest[m["branch_code"]] = max(latest.get(m["branch_code"], ""), m["joined_on"])
    stale = {code for code in branches if latest.get(code, "") <= "2024-04-06"}
    heads = {m["branch_code"] for m in members if m["role"] == "书记"}
    assert stale and stale != branches and "ZB0006" not in heads

    listed, text = _registers(county, tmp_path)
    assert listed["3年以上未发展党员"] == stale
    assert listed["任期届满未换届"] == {"ZB0003"}
    assert listed["书记空缺"] == branches - heads and "ZB0006" in listed["书记空缺"]
    assert f"3年以上未发展党员的支部（{len(stale)} 个）" in text and "任期已届满、尚未换届（1 个）" in text
    assert "（届满 2026-01-04）" in text and f"书记空缺的支部（{len(branches - heads)} 个）" in text

    # A 预备党员 admitted this year takes one branch off the three-year list.
    one = sorted(stale)[0]
    with county.sessions() as s:
        secretary = s.scalar(select(Member.wecom_userid).join(Organization, Member.org_id == Organization.id)
                             .where(Organization.code == one, Member.role == "书记", Member.wecom_userid.is_not(None)))
    assert secretary, one  # the first stale branch has a 书记 in WeCom to keep its register
    for step, day in (("申请", "2025-01-06"), ("积极分子", "2025-03-03"), ("发展对象", "2026-03-09"),
                      ("预备党员", "2027-01-11")):
        assert "已" in wecom.say(secretary, f"发展 王新 {step} {day}")
    # The new term imported for ZB0003 clears it from the overdue terms.
    _reimport(county, roster_copy, {"ZB0003": ("2026-03-02", "2031-03-01"), "ZB0005": ("2024-06-01", "2029-05-31")})
    listed, text = _registers(county, tmp_path)
    assert "任期届满未换届" not in listed and "任期已届满" not in text
    assert listed["3年以上未发展党员"] == stale - {one}
