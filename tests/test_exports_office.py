"""Every kind of export (ledger, bulletin) on a roster with hostile names,
opened as a county office would: LibreOffice headless converts every sheet
of every workbook to CSV in one run, and the sheet names, their count and
every cell's text must be what was meant. openpyxl then reads the same files
back for what CSV cannot show: real dates, numbers, page set-up, no formula.

LibreOffice comes from Debian's libreoffice-calc-nogui (`./run test`
installs it); without it the LibreOffice test skips, and fails when
ZHIBU_REQUIRE_OFFICE is set (CI)."""
from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.exports.bulletin import write_bulletin
from bot.exports.ledger import write_ledger
from handlers.render.bulletin import bulletin_sheets
from handlers.render.ledger import HEADERS, MEMBER_HEADERS, SUMMARY_HEADERS, ledger_rows, member_rows, summary_rows
from storage.bulletin import build_bulletin
from storage.checkins import record_checkin
from storage.db import transaction
from storage.importers.plan_import import import_plan
from storage.importers.roster_import import import_roster
from storage.ledger import build_ledgers
from storage.meetings import record_meeting
from storage.models import CATEGORIES, Member, Task
from storage.month import Month
from storage.orgs import active_branches
from storage.reports import add_report, return_report
from tests.conftest import PLAN_2026, make_runtime

EXPORTED_AT = datetime(2026, 12, 5, 9, 30)
# Real branch codes are long hierarchical numbers: a county's share a long prefix.
PREFIX = "5301020010020030040050060070"  # 28 characters; + 4 digits = 32, the column's width
COMMON = 1000  # branches under that prefix, named 某某县某某镇某某村第N党支部
HOSTILE = [  # (code, name): every one accepted by the roster importer
    ("ZB-Q1", '县第2中学"两新"党支部'),
    ("'ZB-AP", "撇号开头的编码党支部"),
    ("ZB-AP2", "撇号结尾党支部'"),
    ("ZB-X[1]", "第[3]党支部:*?/\\测试"),
    ("zb-case", "Alpha党支部"), ("ZB-CASE", "alpha党支部"),      # differ only in case
    ("ZB-JI", "𠮷野村党支部"),
    ("ZB-JI2", "长" * 23 + "𠮷" + "村党支部"),                 # 𠮷 on the 31st UTF-16 unit
    ("ZB-LONG", "某某省某某市某某县某某镇某某村" * 12 + "党支部"),  # 183 characters
    ("ZB-EQ", "=1+1党支部"), ("ZB-PL", "+86党支部"), ("ZB-MI", "-减号党支部"), ("ZB-AT", "@全体党支部"),
    ("ZB-AMP", "A&B <党支部> _x0041_ %41 #1"),
    ("ZB-HIS", "History"), ("汇总", "汇总"),
]
MEMBERS = ["O'Brien", '"引号"书记', "=cmd|' /C calc'!A0", "@某人", "𠮷田", "-减号", "+加号", "&<>"]
NOTES = ["=1+1", "+86 138 0000 0000", "-5人缺席", "@所有人 已完成", 'a"b<c>&d\'e', "_x0041_ 保留",
         "制表\t符", "第一行\n第二行", "回车\r\n换行", "𠮷野家", "'单引号开头", "控制\x07字符\x1b去掉", "", "  前后空格  "]
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def write_roster(folder: Path) -> None:
    """The hostile roster as a CSV folder."""
    folder.mkdir()
    branches = HOSTILE + [(f"{PREFIX}{i:04d}", f"某某县某某镇某某村第{i}党支部") for i in range(1, COMMON + 1)]
    with (folder / "organizations.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["code", "name", "type", "parent_code", "category", "robot_key", "chat_id"])
        w.writerow(["ZZB", "某县委组织部", "组织部", "", "", "", ""])
        w.writerow(["DW01", '党委"甲"&<乙>', "党委", "ZZB", "", "", ""])
        w.writerow(["DW02", "'第二党委'", "党委", "ZZB", "", "", ""])
        for i, (code, name) in enumerate(branches):
            w.writerow([code, name, "党支部", f"DW0{i % 2 + 1}", CATEGORIES[i % len(CATEGORIES)], "", ""])
    with (folder / "members.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["name", "wecom_userid", "mobile", "branch_code", "role", "status",
                    "mobile_member", "outflow_city", "retired", "joined_on"])
        for i, (code, _) in enumerate(branches):
            w.writerow([MEMBERS[i % len(MEMBERS)] if i < 40 else f"书记{i}", f"u{i:05d}", "", code, "书记",
                        "正式党员", "", "", "", "2000-07-01"])
            if i < len(HOSTILE):  # a mobile member, checked in or not, with a hostile city
                w.writerow([MEMBERS[(i + 3) % len(MEMBERS)], f"m{i:05d}", "", code, "党员", "正式党员", "是",
                            '厦门"集美"&<区>' if i % 2 else "'深圳", "", "2010-07-01"])


def fill_month(session) -> None:
    """November 2026: hostile notes on reports (some late, corrected or
    returned), meetings (one back-filled) and check-ins."""
    tasks = session.scalars(select(Task).where(Task.month == "2026-11").order_by(Task.number)).all()
    secretaries = {m.org_id: m.id for m in session.scalars(select(Member).where(Member.role == "书记"))}
    mobile = session.scalars(select(Member).where(Member.is_mobile).order_by(Member.id)).all()
    note = iter(NOTES * 10_000)
    for n, branch in enumerate(active_branches(session)):
        if n % 25 and n > len(HOSTILE) + 5:
            continue
        who = secretaries[branch.id]
        for k, task in enumerate(tasks):
            at = datetime.combine(task.deadline, datetime.min.time()) + timedelta(days=(n + k) % 4 - 2, hours=9,
                                                                                   minutes=n % 60)
            add_report(session, task, branch, who, next(note), at, None)
            if (n + k) % 5 == 0:
                add_report(session, task, branch, who, next(note), at + timedelta(hours=3), None, kind="correction")
            elif (n + k) % 7 == 0:
                return_report(session, task, branch, next(note) or "缺照片", at + timedelta(days=1))
        record_meeting(session, branch_id=branch.id, kind="支委会", held_on=date(2026, 11, 3 + n % 20), attended=7,
                       expected=9, note=next(note), member_id=who, now=datetime(2026, 11, 4 + n % 20, 8, 5))
        record_meeting(session, branch_id=branch.id, kind="党小组会", held_on=date(2026, 11, 2), attended=None,
                       expected=None, note=next(note), member_id=who, now=datetime(2026, 11, 20, 18, 45))
    for i, member in enumerate(mobile[::2]):
        record_checkin(session, member.id, datetime(2026, 11, 10 + i % 15, 20, 1), note=next(note),
                       label='“集美”&<区>')
    session.flush()


def libreoffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        if os.environ.get("ZHIBU_REQUIRE_OFFICE"):
            pytest.fail("LibreOffice (soffice) not installed, but ZHIBU_REQUIRE_OFFICE is set")
        pytest.skip("LibreOffice not installed here (apt-get install libreoffice-calc-nogui)")
    return found


def convert_all(soffice: str, books: list[Path], out: Path, profile: Path) -> dict[Path, list[tuple[str, Path]]]:
    """One LibreOffice run: every sheet of every book to CSV, shown as
    formatted (dates, percentages). Returns, per book, (sheet name as
    LibreOffice names it, its CSV) in sheet order, read from what it says
    it writes."""
    filter_options = "44,34,76,1,,0,false,true,true,false,false,-1"  # UTF-8, as shown, every sheet
    done = subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                           "--convert-to", f"csv:Text - txt - csv (StarCalc):{filter_options}",
                           "--outdir", str(out), *map(str, books)],
                          capture_output=True, timeout=900, env={**os.environ, "HOME": str(profile)})
    stdout = done.stdout.decode("utf-8")
    assert done.returncode == 0, stdout + done.stderr.decode("utf-8", "replace")
    sheets: dict[Path, list[tuple[str, Path]]] = {}
    current = None
    for line in stdout.splitlines():
        if line.startswith("convert "):
            current = next(b for b in books if line.startswith(f"convert {b} "))
            sheets[current] = []
        elif line.startswith("Writing sheet "):
            name, path = line[len("Writing sheet "):].split(f" -> {out}/", 1)
            sheets[current].append((name, out / path))
    return sheets


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The hostile county's November ledger and bulletin, with what each
    sheet must say."""
    tmp = tmp_path_factory.mktemp("office")
    runtime = make_runtime(f"sqlite:///{tmp}/zhibu.db", tmp)
    write_roster(tmp / "roster")
    with transaction(runtime.sessions) as session:
        import_roster(session, tmp / "roster", EXPORTED_AT)
        import_plan(session, PLAN_2026, EXPORTED_AT)
        fill_month(session)
    with runtime.sessions() as session:
        branches = active_branches(session)
        ledgers = build_ledgers(session, branches, Month(2026, 11), Month(2026, 11), EXPORTED_AT.date())
        bulletin = build_bulletin(session, branches, Month(2026, 11), EXPORTED_AT.date())
        title = "台账 2026-11 & <全县>"
        ledger_names = write_ledger(ledgers, tmp / "ledger.xlsx", title, EXPORTED_AT)
        # LibreOffice's CSV export slows with the square of a book's sheets (1,000
        # sheets ~100 s, 2,000 ~300 s and 5 GB), so the office opens the county's
        # branch sheets without the 党员简历 ones, and the members' sheets of the
        # hostile branches in a book of their own; the whole book's names are
        # checked by the openpyxl tests below.
        office_names = write_ledger(ledgers, tmp / "ledger-office.xlsx", title, EXPORTED_AT, members=False)
        hostile = ledgers[:len(HOSTILE) + 3]
        members_names = write_ledger(hostile, tmp / "members.xlsx", title, EXPORTED_AT)
        bulletin_names = write_bulletin(bulletin, tmp / "bulletin.xlsx", EXPORTED_AT)
        # What each sheet must say: the renderers' rows, under their headers.
        office_expected = [[SUMMARY_HEADERS, *summary_rows(ledgers, title)]]
        office_expected += [[HEADERS, *ledger_rows(lg)] for lg in ledgers]
        members_expected = [[SUMMARY_HEADERS, *summary_rows(hostile, title)]]
        for lg in hostile:  # each branch's records, then its members (党员简历)
            members_expected += [[HEADERS, *ledger_rows(lg)], [MEMBER_HEADERS, *member_rows(lg)]]
        bulletin_expected = [[s.headers, *s.rows] for s in bulletin_sheets(bulletin)]
    runtime.engine.dispose()
    return SimpleNamespace(tmp=tmp, ledgers=ledgers, ledger=tmp / "ledger.xlsx", bulletin=tmp / "bulletin.xlsx",
                           ledger_names=ledger_names,
                           kinds={"ledger": (tmp / "ledger-office.xlsx", office_names, office_expected),
                                  "members": (tmp / "members.xlsx", members_names, members_expected),
                                  "bulletin": (tmp / "bulletin.xlsx", bulletin_names, bulletin_expected)})


@pytest.fixture(scope="module")
def converted(exported):
    """The three workbooks through LibreOffice, in one run (~100 s: 1,000+ sheets)."""
    books = [book for book, _, _ in exported.kinds.values()]
    return convert_all(libreoffice(), books, exported.tmp / "csv", exported.tmp / "lo-profile")


def shown(value, percent: bool = False) -> str:
    """A value as the office shows it: dates and times formatted, rates as
    whole percentages, text without control characters (CR LF read as LF)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float) and percent:
        return f"{round(value * 100)}%"
    return CONTROL.sub("", str(value).replace("\r\n", "\n").replace("\r", "\n"))


def trimmed(rows: list[list[str]]) -> list[list[str]]:
    """Rows without trailing empty cells, without trailing empty rows (a
    CSV pads every row to the sheet's width)."""
    rows = [list(r) for r in rows]
    for r in rows:
        while r and r[-1] == "":
            r.pop()
    while rows and not rows[-1]:
        rows.pop()
    return rows


def legal_names(names: list[str]) -> None:
    """Excel's rules, checked without the writer's code."""
    assert len({n.casefold() for n in names}) == len(names)
    for n in names:
        units = len(n.encode("utf-16-le")) // 2
        assert 1 <= units <= 31 and not set(n) & set("[]:*?/\\") and not CONTROL.search(n), n
        assert n[0] != "'" and n[-1] != "'" and n.casefold() != "history", n


@pytest.mark.parametrize("kind", ["ledger", "members", "bulletin"])
def test_libreoffice_opens_every_sheet_with_its_name_and_text(exported, converted, kind):
    book, names, expected = exported.kinds[kind]
    converted = converted[book]
    assert [name for name, _ in converted] == names  # LibreOffice kept every sheet, in order, as named
    legal_names(names)
    assert len(names) == len(expected)
    percent = {"bulletin": {0: {6}}}.get(kind, {})
    for i, ((name, path), rows) in enumerate(zip(converted, expected)):
        with path.open(encoding="utf-8", newline="") as f:
            got = trimmed(list(csv.reader(f)))
        want = trimmed([[shown(v, c in percent.get(i, ())) for c, v in enumerate(row)] for row in rows])
        assert got == want, f"{kind} sheet {name!r}"


def test_hostile_names_are_named_legally_and_findable(exported):
    names = exported.ledger_names
    assert len(names) == 1 + 2 * (len(HOSTILE) + COMMON) and names[0] == "汇总"
    named = {lg.branch.code: name for lg, name in zip(exported.ledgers, names[1::2])}
    members = {lg.branch.code: name for lg, name in zip(exported.ledgers, names[2::2])}
    assert members["ZB-Q1"] == "党员简历 ZB-Q1" and members["ZB-X[1]"] == "党员简历 ZB-X1"
    assert members["汇总"] == "党员简历 汇总" and members["'ZB-AP"] == "党员简历 'ZB-AP"
    assert all(m.startswith("党员简历 ") for m in members.values())  # recognisable however long the code
    assert named["ZB-Q1"] == 'ZB-Q1 县第2中学"两新"党支部'
    assert named["'ZB-AP"] == "ZB-AP 撇号开头的编码党支部" and named["ZB-AP2"] == "ZB-AP2 撇号结尾党支部"
    assert named["ZB-X[1]"] == "ZB-X1 第3党支部测试"
    assert {named["zb-case"].casefold(), named["ZB-CASE"].casefold()} == {"zb-case alpha党支部", "zb-case alpha党支部~2"}
    assert named["ZB-JI"] == "ZB-JI 𠮷野村党支部"
    assert named["ZB-JI2"] == "ZB-JI2 " + "长" * 23  # 30 units: 𠮷 would make 32
    assert named["ZB-LONG"] == ("ZB-LONG " + "某某省某某市某某县某某镇某某村" * 2)[:31]
    assert named["汇总"] == "汇总 汇总"
    common = [named[f"{PREFIX}{i:04d}"] for i in range(1, COMMON + 1)]
    assert common[:3] == [f"{PREFIX}000", f"{PREFIX}0~2", f"{PREFIX}0~3"]  # cut to 31 units, then renamed
    assert len(set(common)) == COMMON


@pytest.fixture(scope="module")
def opened(exported):
    return {"ledger": load_workbook(exported.ledger), "bulletin": load_workbook(exported.bulletin)}


def test_cells_are_typed_formatted_and_never_formulas(opened):
    book = opened["ledger"]
    assert book.sheetnames[0] == "汇总" and book.active.title == "汇总"
    summary = book["汇总"]
    assert summary["C2"].data_type == "n" and summary["C2"].number_format == "0"
    dated = 0
    for ws in book.worksheets[2::2]:  # the members' sheets: a section per member, records dated
        assert ws["A1"].value == "党员" and ws["D1"].value == "日期"
        for row in ws.iter_rows(min_row=2):
            if row[1].value in ("基本情况", "小计"):
                assert row[3].value is None and row[5].value is None
            else:
                assert isinstance(row[3].value, datetime) and isinstance(row[5].value, datetime)
            if isinstance(row[0].value, str) and row[0].value[:1] in "=+-@":
                assert row[0].quotePrefix, row[0].value
            assert all(c.data_type != "f" for c in row)
    for ws in book.worksheets[1::2]:
        for row in ws.iter_rows(min_row=2):
            task_date, moment, note = row[3], row[5], row[7]
            assert isinstance(task_date.value, datetime) and task_date.number_format == "yyyy\\-mm\\-dd"
            if moment.value is not None:
                assert isinstance(moment.value, datetime) and moment.number_format == "yyyy\\-mm\\-dd\\ hh:mm"
                dated += 1
            if isinstance(note.value, str) and note.value[:1] in "=+-@":
                assert note.quotePrefix, note.value
            assert all(c.data_type != "f" for c in row)
    assert dated > 500
    ranking = opened["bulletin"]["支部排名"]
    rates = [r[6].value for r in ranking.iter_rows(min_row=2)]
    assert all(isinstance(r, float) and 0 <= r <= 1 for r in rates) and ranking["G2"].number_format == "0%"
    assert rates == sorted(rates, reverse=True)  # sorting the column sorts by the rate


@pytest.mark.parametrize("kind", ["ledger", "bulletin"])
def test_every_sheet_prints_landscape_one_page_wide_with_header_and_footer(opened, kind):
    book = opened[kind]
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        assert ws.print_title_rows == "$1:$1" and ws.freeze_panes == "A2"
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
        assert ws.oddFooter.right.text == "导出于 2026-12-05 09:30" and ws.oddFooter.left.text == "&A"
        assert ws.oddHeader.center.text
    assert [bool(ws.sheet_view.tabSelected) for ws in book.worksheets] == [True] + [False] * (len(book.worksheets) - 1)
