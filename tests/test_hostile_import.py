"""Issue 17, the roster rows (5, 9, 12): a hostile or careless roster is
refused with a message an operator can act on, and nothing is written.
Each test failed before the fix (row 5's killed the process, so it runs
the CLI in a child process)."""
import codecs
import os
import subprocess
import sys
import zipfile

import pytest
from sqlalchemy import func, select

from storage.db import transaction
from storage.importers import xlsx_size
from storage.importers.roster_import import MassDeactivation, import_roster
from storage.importers.roster_read import RosterError, csv_encoding
from storage.models import Member, Organization
from tests.conftest import ROOT, ROSTER_XLSX
from tests.test_roster_import import edit_members, snapshot

MEMBERS = 949


def run_import(rt, path, **options):
    with transaction(rt.sessions) as session:
        return import_roster(session, path, rt.clock.now(), **options)


def cli(tmp_path, *args, env=None):
    env = {"ZHIBU_DATABASE__URL": f"sqlite:///{tmp_path}/cli.db", "ZHIBU_CONFIG": os.devnull,
           "PATH": "/usr/bin:/bin", **(env or {})}
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


def active_members(rt):
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(Member).where(Member.active))


# ---- row 5: a sheet is measured before calamine loads it -----------------------------------
SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>'
              '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')


def workbook(path, sheets: dict[str, str]) -> None:
    """A minimal .xlsx written by hand: the cells exactly as given."""
    names = list(sheets)
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')
        z.writestr("xl/workbook.xml", f'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
                   f' xmlns:r="{rel}"><sheets>' + "".join(
                       f'<sheet name="{n}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, n in enumerate(names))
                   + "</sheets></workbook>")
        z.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/'
                   '2006/relationships">' + "".join(
                       f'<Relationship Id="rId{i + 1}" Type="{rel}/worksheet" Target="worksheets/s{i + 1}.xml"/>'
                       for i in range(len(names))) + "</Relationships>")
        for i, body in enumerate(sheets.values()):
            z.writestr(f"xl/worksheets/s{i + 1}.xml", body)


def test_a_tiny_file_with_a_far_corner_cell_is_refused_not_fatal(tmp_path):
    from openpyxl import load_workbook
    book = load_workbook(ROSTER_XLSX)
    book["党员"]["XFD1048576"] = "x"  # the file stays a few KB; calamine would ask for 512 GB
    path = tmp_path / "corner.xlsx"
    book.save(path)
    done = cli(tmp_path, "import-roster", str(path))
    assert done.returncode == 2, done.stderr[-500:]
    assert "工作表“党员”用到了 1,048,576 行、16,384 列（最远的单元格是 XFD1048576）" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("cells, corner", [
    ('<row r="1"><c r="A1"/><c foo=">" r="XFD1048576"/></row>', (1048576, 16384)),      # `>` in a value
    ("<row r='1'><c r='A1'/><c r='XFD1048576'/></row>", (1048576, 16384)),               # single quotes
    ('<row r="1"><c x-r="A1" r="XFD9"/></row>', (9, 16384)),                              # a look-alike attribute
    ('<row><c/><c/><c/></row><row r="70"><c/></row>', (70, 3)),                           # positions, no r
    ('<row r="1"><c\nr="B1"/><c s="1" r="C5"/></row>', (5, 3)),                           # r not first
])
def test_the_measure_reads_cells_as_calamine_does(tmp_path, cells, corner):
    path = tmp_path / "s.xlsx"
    workbook(path, {"S": SHEET_HEAD + "<sheetData>" + cells + "</sheetData></worksheet>"})
    with zipfile.ZipFile(path) as z:
        extent = xlsx_size.measure(z, "xl/worksheets/s1.xml", "S")
    assert (extent.rows, extent.columns) == corner


def test_a_prefixed_sheet_is_measured_too(tmp_path):
    path = tmp_path / "x.xlsx"
    body = ('<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
            '<x:row r="1"><x:c r="A1"/><x:c r="XFD1048576"/></x:row></x:sheetData></x:worksheet>')
    workbook(path, {"组织": body, "党员": body})
    with pytest.raises(xlsx_size.SheetTooLarge, match="XFD1048576"):
        xlsx_size.check_xlsx(str(path), ("组织", "党员"))


def test_a_long_sheet_is_refused_by_streaming_it_not_loading_it(tmp_path):
    rows = xlsx_size.MAX_ROWS + 1
    body = SHEET_HEAD + "<sheetData>" + "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>党员{n}</t></is></c></row>' for n in range(1, rows + 1)
    ) + "</sheetData></worksheet>"
    path = tmp_path / "long.xlsx"
    workbook(path, {"组织": SHEET_HEAD + "<sheetData/></worksheet>", "党员": body})
    code = ("from storage.importers.roster_read import read_roster, RosterError\n"
            f"try: read_roster({str(path)!r})\nexcept RosterError as e: print(e)\n"
            # VmHWM, not ru_maxrss: the latter keeps the forking parent's size across exec
            "print([int(l.split()[1]) // 1024 for l in open('/proc/self/status') if l.startswith('VmHWM')][0])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    message, peak_mb = done.stdout.rsplit("\n", 2)[0], int(done.stdout.split()[-1])
    assert f"用到了 {rows:,} 行、1 列" in message and len(body) > 20_000_000
    assert peak_mb < 80  # streamed in 1 MB pieces, not loaded


def test_a_zip_bomb_stops_at_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_size, "MAX_XML_BYTES", 1 << 20)
    path = tmp_path / "bomb.xlsx"
    workbook(path, {"组织": SHEET_HEAD + "<sheetData/></worksheet>",
                    "党员": SHEET_HEAD + "<sheetData>" + " " * (3 << 20) + "</sheetData></worksheet>"})
    with pytest.raises(xlsx_size.SheetTooLarge, match="压缩炸弹"):
        xlsx_size.check_xlsx(str(path), ("组织", "党员"))


def test_the_sample_roster_still_measures_and_imports(runtime):
    with zipfile.ZipFile(ROSTER_XLSX) as z:
        parts = xlsx_size._sheet_parts(z)
        extent = xlsx_size.measure(z, parts["党员"], "党员")
    assert extent.rows == MEMBERS + 1 and 10 <= extent.columns <= 12
    assert run_import(runtime, ROSTER_XLSX)["members"].added == MEMBERS


# ---- row 9: GBK and UTF-8 CSV; control characters refused by row -------------------------
def recode(folder, encoding: str, bom: bytes = b"") -> None:
    for name in ("members.csv", "organizations.csv"):
        path = folder / name
        text = path.read_text("utf-8-sig")
        path.write_bytes(bom + text.encode(encoding))


@pytest.mark.parametrize("encoding, bom, expected", [
    ("gbk", b"", "gb18030"), ("utf-8", b"", "utf-8"), ("utf-8", codecs.BOM_UTF8, "utf-8-sig")],
    ids=["gbk", "utf-8", "utf-8-bom"])
def test_gbk_and_utf8_csv_give_the_same_database(tmp_path, roster_copy, encoding, bom, expected):
    from tests.conftest import make_runtime
    reference, other = (make_runtime(f"sqlite:///{tmp_path}/{n}.db", tmp_path) for n in ("a", "b"))
    run_import(reference, ROSTER_XLSX)
    recode(roster_copy, encoding, bom)
    assert csv_encoding(roster_copy / "members.csv") == expected
    run_import(other, roster_copy)
    assert snapshot(reference) == snapshot(other)


@pytest.mark.parametrize("content, reason", [
    ("name,wecom_userid\n".encode("utf-16"), "UTF-16 编码"),
    (b"name,wecom_userid\n\xe5\xbc\xa0\xe4\xb8\x89,u1\n\xff\xfe\xfd,u2\n", "第 3 行：有无法识别的字符"),
], ids=["utf-16", "neither"])
def test_other_encodings_are_a_clear_error(runtime, roster_copy, content, reason):
    (roster_copy / "members.csv").write_bytes(content)
    with pytest.raises(RosterError) as err:
        run_import(runtime, roster_copy)
    assert reason in err.value.problems[0] and "UTF-8" in err.value.problems[0]


@pytest.mark.parametrize("name", ["张\x00三", "张\n三", "张\x1b三"], ids=["nul", "newline", "escape"])
def test_control_characters_are_refused_with_the_row(runtime, roster_copy, name):
    edit_members(roster_copy, lambda rows: rows + [[name, "u_nul", "", "ZB0001", "党员", "正式党员", "", "", "", ""]])
    with pytest.raises(RosterError) as err:
        run_import(runtime, roster_copy)
    assert "members.csv 第 951 行：姓名（name）含有不可见的控制字符" in err.value.problems[0]
    with runtime.sessions() as s:
        assert s.scalar(select(Member.id)) is None


def test_values_longer_than_their_column_are_refused_by_row(runtime, roster_copy):
    edit_members(roster_copy, lambda rows: rows + [["张" * 65, "u_long", "", "ZB0001", "党员", "正式党员", "", "", "", ""]])
    with pytest.raises(RosterError) as err:
        run_import(runtime, roster_copy)
    assert "第 951 行：姓名（name）太长（65字），最多64字" in err.value.problems[0]


# ---- row 12: no mass deactivation without being asked -------------------------------------
def only_the_org_department(folder) -> None:
    orgs = (folder / "organizations.csv").read_text("utf-8-sig").splitlines()
    (folder / "organizations.csv").write_text("\n".join(orgs[:2]) + "\n", "utf-8")
    members = (folder / "members.csv").read_text("utf-8-sig").splitlines()
    (folder / "members.csv").write_text(members[0] + "\n", "utf-8")


def test_a_roster_that_would_deactivate_most_people_is_refused(county, roster_copy):
    only_the_org_department(roster_copy)
    before = snapshot(county)
    with pytest.raises(MassDeactivation) as err:
        run_import(county, roster_copy)
    message = err.value.problems[0]
    assert f"将停用 {MEMBERS} 名党员（现有 {MEMBERS} 的 100%）、40 个组织" in message
    assert "超过允许的 20%" in message and "--allow-mass-deactivate" in message
    assert snapshot(county) == before
    summary = run_import(county, roster_copy, allow_mass_deactivate=True)
    assert summary["members"].deactivated == MEMBERS and active_members(county) == 0


def test_the_share_is_configurable_and_the_flag_is_on_the_cli(tmp_path, roster_copy):
    assert cli(tmp_path, "import-roster", str(ROSTER_XLSX)).returncode == 0
    only_the_org_department(roster_copy)
    refused = cli(tmp_path, "import-roster", str(roster_copy))
    assert refused.returncode == 2 and "--allow-mass-deactivate" in refused.stderr
    assert cli(tmp_path, "import-roster", str(roster_copy),
               env={"ZHIBU_ROSTER__MAX_DEACTIVATE_SHARE": "100%"}).returncode == 0


def test_a_few_leaving_is_not_mass_deactivation(runtime, roster_copy):
    run_import(runtime, roster_copy)
    edit_members(roster_copy, lambda rows: rows[:-100])  # about 10 %
    assert run_import(runtime, roster_copy)["members"].deactivated == 100
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Organization).where(Organization.active)) == 41
