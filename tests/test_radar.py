"""锋领考评 (issue 12): the quarter's radar read back from the .xlsx against
a crafted quarter, staff-entered scores imported with row-level errors
(nothing written on error), a PNG chart per member, and the 公示 queued
once per branch group."""
import os
from datetime import date, datetime

import openpyxl
import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import func, select

from bot.cli import cli, main
from storage.db import transaction
from storage.importers.appraisals import AppraisalError
from storage.models import (ABSENT, EXCUSED, PRESENT, Appraisal, Attendance, Delivery, Meeting, Member,
                            Organization, Study, Volunteer)
from storage.month import Quarter

HEAD = ("支部代码", "支部名称", "支部类别", "编号", "姓名", "三会一课", "理论学习", "主题党日", "志愿服务", "满意度", "岗位业绩")


def member(s, wecom_id):
    return s.scalar(select(Member).where(Member.wecom_userid == wecom_id))


def meeting(s, branch, kind, day, roll):
    m = Meeting(branch_id=branch.id, kind=kind, held_on=day, attended=0, expected=0, note="",
                received_at=datetime(2026, 11, 16))
    s.add(m)
    s.flush()
    for person, status in roll.items():
        s.add(Attendance(meeting_id=m.id, member_id=person.id, status=status))


@pytest.fixture
def quarter(county):
    """2026Q4 in ZB0004 (农村) and ZB0003 (国企): 杨娜燕 attended 2 of 3
    meetings and the 主题党日, studied on 3 days, served 4 hours; 莫娜建 was
    absent from all; 徐兰敏 (国企) has no records. Records outside the
    quarter don't count."""
    now = datetime(2026, 11, 16, 9)
    with transaction(county.sessions) as s:
        zb4 = s.scalar(select(Organization).where(Organization.code == "ZB0004"))
        yang, mo = member(s, "u700046"), member(s, "u700048")
        meeting(s, zb4, "党员大会", date(2026, 10, 9), {yang: PRESENT, mo: ABSENT})
        meeting(s, zb4, "党课", date(2026, 10, 20), {yang: PRESENT, mo: EXCUSED})
        meeting(s, zb4, "党小组会", date(2026, 11, 3), {yang: ABSENT, mo: ABSENT})
        meeting(s, zb4, "主题党日", date(2026, 11, 13), {yang: PRESENT, mo: ABSENT})
        meeting(s, zb4, "党员大会", date(2026, 9, 30), {yang: ABSENT, mo: PRESENT})  # Q3
        for day in (date(2026, 10, 1), date(2026, 10, 1), date(2026, 10, 2), date(2026, 11, 5), date(2027, 1, 2)):
            s.add(Study(member_id=yang.id, day=day, content="", received_at=now))
        for day, hours in ((date(2026, 10, 3), 2.5), (date(2026, 12, 31), 1.5), (date(2026, 9, 1), 9)):
            s.add(Volunteer(member_id=yang.id, day=day, hours=hours, note="", received_at=now))
    return Quarter(2026, 4)


def read(path):
    book = openpyxl.load_workbook(path, read_only=True)
    sheet = [tuple(r) for r in book["锋领考评"].iter_rows(values_only=True)]
    notes = dict(book["说明"].iter_rows(min_row=2, values_only=True))
    return sheet[0], {r[4]: r for r in sheet[1:]}, notes


def run(county, *args):
    result = CliRunner().invoke(cli, list(args), obj=county, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_radar_xlsx_figures_match_the_crafted_quarter(county, quarter, tmp_path):
    out = tmp_path / "radar.xlsx"
    printed = run(county, "radar", "--quarter", "2026Q4", "--branch", "ZB0004", "--branch", "ZB0003",
                  "-o", str(out))
    assert "2026年第四季度" in printed
    head, by_name, notes = read(out)
    assert head[:11] == HEAD
    with county.sessions() as s:
        members = s.scalar(select(func.count()).select_from(Member).join(Organization).where(
            Organization.code.in_(["ZB0003", "ZB0004"]), Member.active))
    assert len(by_name) == members
    yang, mo, xu = by_name["杨娜燕"], by_name["莫娜建"], by_name["徐兰敏"]
    # 三会一课 2/3 → 67; study 3 days of 6 → 50; 主题党日 1/1; 4 h of 8 → 50; nothing entered yet
    assert yang[:5] == ("ZB0004", "龙泉乡4村党支部", "农村", yang[3], "杨娜燕")
    assert yang[5:11] == (67, 50, 100, 50, None, None)
    assert yang[11:] == ("2/3", 3, "1/1", 0, 4)
    assert mo[5:9] == (0, 0, 0, 0)          # absent, excused and absent again: excused is not attended
    assert xu[2] == "国企" and xu[5:9] == (100, 0, 100, 0)  # no meeting on the roll: the configured 100
    assert "÷ 6 × 100" in notes["理论学习"] and "÷ 8 × 100" in notes["志愿服务"]
    assert "国企、非公企业" in notes["岗位业绩"] and "2026年10月至2026年12月" in notes["考评期间"]


def test_rules_come_from_the_config(county, quarter, tmp_path):
    from storage import radar
    try:
        radar.configure(study_days=3, volunteer_hours=4, no_meeting=0)
        out = tmp_path / "radar.xlsx"
        run(county, "radar", "--quarter", "2026Q4", "--branch", "ZB0004", "--branch", "ZB0003", "-o", str(out))
        _, by_name, notes = read(out)
        assert by_name["杨娜燕"][5:9] == (67, 100, 100, 100)
        assert by_name["徐兰敏"][5:9] == (0, 0, 0, 0)
        assert "÷ 3 × 100" in notes["理论学习"] and "记 0 分" in notes["三会一课"]
    finally:
        radar.configure()


def fill(path, target, edits, extra_rows=()):
    """The exported sheet with staff's entries: name → (满意度, 岗位业绩)."""
    book = openpyxl.load_workbook(path)
    sheet = book["锋领考评"]
    for row in sheet.iter_rows(min_row=2):
        if row[4].value in edits:
            row[9].value, row[10].value = edits[row[4].value]
    for extra in extra_rows:
        sheet.append(extra)
    book.save(target)
    return target


def appraisals(county):
    with county.sessions() as s:
        return {name: (a.quarter, a.satisfaction, a.performance) for a, name in s.execute(
            select(Appraisal, Member.name).join(Member, Appraisal.member_id == Member.id))}


def test_appraisals_import_with_row_errors_and_nothing_written(county, quarter, tmp_path, monkeypatch, capsys):
    out = tmp_path / "radar.xlsx"
    run(county, "radar", "--quarter", "2026Q4", "--branch", "ZB0004", "--branch", "ZB0003", "-o", str(out))
    _, by_name, _ = read(out)
    yang_id = by_name["杨娜燕"][3]
    with county.sessions() as s:
        other = member(s, "u700001")  # in another branch: not in this export, still appraisable
    bad = fill(out, tmp_path / "bad.xlsx", {"杨娜燕": (90, None), "莫娜建": (101, None), "徐兰敏": (80, "优")},
               extra_rows=[("ZB0004", "", "", yang_id, "杨娜燕", "", "", "", "", 70, ""),
                           ("ZB0004", "", "", 999999, "张三", "", "", "", "", 70, ""),
                           ("ZB0004", "", "", "abc", "李四", "", "", "", "", 70, ""),
                           ("ZB0004", "", "", other.id, other.name + "明", "", "", "", "", 70, "")])
    rows = {name: i for i, name in enumerate(by_name, start=2)}
    with pytest.raises(AppraisalError) as caught:
        run(county, "import-appraisals", str(bad), "--quarter", "2026Q4")
    problems = caught.value.problems
    last = len(by_name) + 1
    assert f"bad.xlsx[锋领考评] 第{rows['莫娜建']}行：满意度“101”应为 0 至 100 的整数" in problems
    assert f"bad.xlsx[锋领考评] 第{rows['徐兰敏']}行：岗位业绩“优”应为 0 至 100 的整数" in problems
    assert f"bad.xlsx[锋领考评] 第{last + 1}行：编号 {yang_id} 与第{rows['杨娜燕']}行重复" in problems
    assert f"bad.xlsx[锋领考评] 第{last + 2}行：编号 999999 不是在册支部的党员" in problems
    assert f"bad.xlsx[锋领考评] 第{last + 3}行：编号“abc”无效（应为导出文件中的编号）" in problems
    assert f"bad.xlsx[锋领考评] 第{last + 4}行：编号 {other.id} 是“{other.name}”，不是“{other.name}明”" in problems
    assert len(problems) == 6 and problems == sorted(problems, key=lambda p: int(p.split("第")[1].split("行")[0]))
    assert appraisals(county) == {}  # the good row (杨娜燕 90) was not written either

    performance_outside = fill(out, tmp_path / "rural.xlsx", {"杨娜燕": (90, 85)})
    monkeypatch.setenv("ZHIBU_DATABASE__URL", county.engine.url.render_as_string(hide_password=False))
    assert main(["-c", os.devnull, "import-appraisals", str(performance_outside), "--quarter", "2026Q4"]) == 2
    err = capsys.readouterr().err
    assert "导入失败，未做任何更改（共 1 处问题）" in err and "不考评岗位业绩" in err and "Traceback" not in err
    assert appraisals(county) == {}

    good = fill(out, tmp_path / "good.xlsx", {"杨娜燕": (90, None), "徐兰敏": (None, 85), "程珍明": ("88", "-")})
    assert "3 名党员" in run(county, "import-appraisals", str(good), "--quarter", "2026Q4")
    assert appraisals(county) == {"杨娜燕": ("2026Q4", 90, None), "徐兰敏": ("2026Q4", None, 85),
                                  "程珍明": ("2026Q4", 88, None)}
    run(county, "import-appraisals", str(fill(out, tmp_path / "more.xlsx", {"徐兰敏": (75, None)})),
        "--quarter", "2026Q4")  # a blank cell keeps what was entered
    assert appraisals(county)["徐兰敏"] == ("2026Q4", 75, 85)

    run(county, "radar", "--quarter", "2026Q4", "--branch", "ZB0004", "--branch", "ZB0003", "-o", str(out))
    _, by_name, _ = read(out)
    assert by_name["杨娜燕"][9:11] == (90, None) and by_name["徐兰敏"][9:11] == (75, 85)


def test_a_bad_quarter_is_named(county, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("ZHIBU_DATABASE__URL", county.engine.url.render_as_string(hide_password=False))
    assert main(["-c", os.devnull, "radar", "--quarter", "2027Q5", "-o", str(tmp_path / "r.xlsx")]) == 2
    assert "--quarter“2027Q5”无效，应为 YYYYQn" in capsys.readouterr().err


def png_ok(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > 200 and image.size[1] > 200


def test_a_png_radar_per_member_with_or_without_a_cjk_font(county, quarter, tmp_path):
    from bot.exports.radar import write_charts
    from storage.radar import radar
    charts = tmp_path / "charts"
    printed = run(county, "radar", "--quarter", "2026Q4", "--branch", "ZB0003", "-o", str(tmp_path / "r.xlsx"),
                  "--png-dir", str(charts))
    files = sorted(charts.iterdir())
    with county.sessions() as s:
        scores = radar(s, quarter, ["ZB0003"])
    assert len(files) == len(scores) > 0 and f"雷达图 {len(files)} 张" in printed
    assert {f.name for f in files} == {f"ZB0003-{x.member_id}-{x.name}.png" for x in scores}
    for f in files:
        png_ok(f)
    for f in write_charts(quarter, scores[:2], tmp_path / "plain", cjk=False):  # no CJK font: English labels
        png_ok(f)


def test_the_notice_is_queued_once_per_branch_group(county, quarter, tmp_path):
    notices = tmp_path / "notices"
    args = ["radar", "--quarter", "2026Q4", "--branch", "ZB0004", "--branch", "ZB0003", "-o",
            str(tmp_path / "r.xlsx"), "--notice-dir", str(notices), "--send"]
    assert "公示已排队发送到 2 个支部群" in run(county, *args)
    assert "公示已排队发送到 0 个支部群" in run(county, *args)
    with county.sessions() as s:
        rows = s.scalars(select(Delivery).where(Delivery.purpose.startswith("radar-")).order_by(Delivery.target)).all()
    assert [(d.target, d.period) for d in rows] == [("org:ZB0003", "2026Q4"), ("org:ZB0004", "2026Q4")]
    body = rows[1].body
    assert "2026年第四季度锋领考评公示" in body
    assert "- **杨娜燕**：三会一课 67 · 理论学习 50 · 主题党日 100 · 志愿服务 50 · 满意度 未录入" in body
    assert "岗位业绩" not in body.split("**计分规则**")[0]
    assert "岗位业绩 未录入" in rows[0].body
    assert (notices / "ZB0004-2026Q4-公示.md").read_text(encoding="utf-8").strip() == body
