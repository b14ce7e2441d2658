import csv

import pytest
from sqlalchemy import select

from storage.db import transaction
from storage.models import Address, Member, Organization
from storage.importers.roster_import import import_roster
from storage.importers.roster_read import RosterError
from tests.conftest import ROSTER_DIR, ROSTER_XLSX


def run_import(rt, path):
    with transaction(rt.sessions) as session:
        return import_roster(session, path, rt.clock.now())


def group_addresses(session, code):
    """{kind: value} of a branch group's addresses."""
    return {a.kind: a.value for a in session.scalars(select(Address).where(Address.owner == f"org:{code}"))}


def snapshot(rt):
    with rt.sessions() as s:
        orgs = [(o.code, o.name, o.type, o.parent.code if o.parent else None, o.category,
                 group_addresses(s, o.code), o.active) for o in s.scalars(select(Organization))]
        addresses = [(a.owner, a.kind, a.value, a.updated_at) for a in s.scalars(select(Address))]
        members = [(m.roster_key, m.name, m.wecom_userid, m.phone, m.org.code, m.role,
                    m.status, m.is_mobile, m.inflow_city, m.retired, m.joined_on, m.active,
                    m.updated_at) for m in s.scalars(select(Member))]
    return sorted(orgs, key=str), sorted(members), sorted(addresses)


def edit_members(folder, change):
    path = folder / "members.csv"
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    rows = change(rows)
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


def edit_orgs(folder, change):
    path = folder / "organizations.csv"
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(change(rows))


def test_xlsx_and_csv_give_the_same_database(tmp_path):
    from tests.conftest import make_runtime
    a = make_runtime(f"sqlite:///{tmp_path}/a.db", tmp_path)
    b = make_runtime(f"sqlite:///{tmp_path}/b.db", tmp_path)
    run_import(a, ROSTER_XLSX)
    run_import(b, ROSTER_DIR)
    assert snapshot(a) == snapshot(b)
    orgs, members, _ = snapshot(a)
    assert len(orgs) == 41 and len(members) == 949
    # Members without a WeCom account are kept (keyed by their phone number).
    assert any(m[2] is None and m[0].startswith("tel:") for m in members)


def test_sample_tree_and_people(runtime):
    run_import(runtime, ROSTER_XLSX)
    with runtime.sessions() as s:
        zb = s.scalar(select(Organization).where(Organization.code == "ZB0001"))
        assert (zb.name, zb.type, zb.parent.code, zb.parent.parent.code, zb.category,
                group_addresses(s, "ZB0001")) == ("县财政局机关党支部", "党支部", "DW01", "ZZB", "机关",
                                                  {"wecom_appchat": "chat70001"})
        secretary = s.scalar(select(Member).where(Member.wecom_userid == "u700001"))
        assert (secretary.name, secretary.role, secretary.org.code) == ("吕丽刚", "书记", "ZB0001")
        assert str(secretary.joined_on) == "2010-07-02"
        mobile = s.scalars(select(Member).where(Member.is_mobile)).all()
    with (ROSTER_DIR / "members.csv").open(encoding="utf-8") as f:
        expected = sum(1 for r in csv.DictReader(f) if r["mobile_member"] == "是")
    assert len(mobile) == expected > 50 and all(m.inflow_city for m in mobile)


def test_reimport_changes_nothing(runtime):
    first = run_import(runtime, ROSTER_XLSX)
    before = snapshot(runtime)
    runtime.clock.advance(days=3)
    again = run_import(runtime, ROSTER_DIR)
    assert snapshot(runtime) == before  # updated_at included
    assert (again["members"].added, again["members"].updated, again["members"].deactivated) == (0, 0, 0)
    assert again["members"].unchanged == first["members"].added == 949


def test_edited_roster_updates_adds_and_deactivates(runtime, roster_copy):
    run_import(runtime, roster_copy)

    def change(rows):
        header, body = rows[0], rows[1:]
        body = [r for r in body if r[1] != "u700002"]  # 邱国 leaves
        for r in body:
            if r[1] == "u700003":
                r[4] = "组织委员"  # 秦海 becomes a committee member
        body.append(["欧阳㛃堃", "u799999", "13900000000", "ZB0001", "党员", "预备党员",
                     "是", "深圳", "", "2026-07-01"])
        return [header, *body]

    edit_members(roster_copy, change)
    runtime.clock.advance(days=1)
    summary = run_import(runtime, roster_copy)["members"]
    assert (summary.added, summary.updated, summary.deactivated) == (1, 1, 1)
    with runtime.sessions() as s:
        gone = s.scalar(select(Member).where(Member.wecom_userid == "u700002"))
        assert gone is not None and gone.active is False  # kept, not deleted
        assert s.scalar(select(Member.role).where(Member.wecom_userid == "u700003")) == "组织委员"
        new = s.scalar(select(Member).where(Member.wecom_userid == "u799999"))
        assert new.name == "欧阳㛃堃" and new.is_mobile and new.inflow_city == "深圳"
    # The member comes back: reactivated, same row.
    edit_members(roster_copy, lambda rows: rows + [["邱国", "u700002", "13619659571", "ZB0001",
                                                    "党员", "正式党员", "", "", "", "1978-04-02"]])
    assert run_import(runtime, roster_copy)["members"].updated == 1
    with runtime.sessions() as s:
        assert s.scalar(select(Member.active).where(Member.wecom_userid == "u700002")) is True


def test_rare_characters_and_compound_surnames_round_trip(any_db_url, tmp_path, roster_copy):
    from tests.conftest import make_runtime
    rt = make_runtime(any_db_url, tmp_path)
    names = ["欧阳㛃", "司马堃", "上官喆", "𠮷田"]  # 𠮷 is outside the BMP
    edit_members(roster_copy, lambda rows: rows + [
        [n, f"rare{i}", "", "ZB0003", "党员", "正式党员", "", "", "", ""] for i, n in enumerate(names)])
    run_import(rt, roster_copy)
    with rt.sessions() as s:
        stored = s.scalars(select(Member.name).where(Member.wecom_userid.like("rare%"))
                           .order_by(Member.wecom_userid)).all()
    assert stored == names
    rt.engine.dispose()


def bad_member_row(**changes):
    row = {"name": "张三", "wecom_userid": "u_new", "mobile": "13900000001", "branch_code": "ZB0001",
           "role": "党员", "status": "正式党员", "mobile_member": "", "outflow_city": "",
           "retired": "", "joined_on": "2001-07-01"}
    row.update(changes)
    return list(row.values())


@pytest.mark.parametrize("row, reason", [
    (bad_member_row(branch_code="ZB9999"), "所在支部编码 ZB9999 不存在"),
    (bad_member_row(wecom_userid="u700001"), "企业微信账号 u700001 重复"),
    (bad_member_row(joined_on="2001-13-45"), "入党日期“2001-13-45”无效"),
    (bad_member_row(role="队长"), "职务“队长”无效"),
    (bad_member_row(name=""), "缺少必填项 name"),
    (bad_member_row(mobile_member="也许"), "流动党员“也许”无效"),
])
def test_bad_member_rows_are_named_and_nothing_is_imported(runtime, roster_copy, row, reason):
    edit_members(roster_copy, lambda rows: rows + [row])
    with pytest.raises(RosterError) as err:
        run_import(runtime, roster_copy)
    assert f"members.csv 第 951 行：{reason}" in err.value.problems[0]
    with runtime.sessions() as s:  # one transaction: not half-imported
        assert s.scalar(select(Member.id)) is None and s.scalar(select(Organization.id)) is None


def test_bad_row_in_xlsx_names_file_sheet_and_row(runtime, tmp_path):
    from openpyxl import load_workbook
    book = load_workbook(ROSTER_XLSX)
    book["党员"].cell(row=5, column=4, value="ZB9999")
    path = tmp_path / "edited.xlsx"
    book.save(path)
    with pytest.raises(RosterError) as err:
        run_import(runtime, path)
    assert err.value.problems == ["edited.xlsx[党员] 第 5 行：所在支部编码 ZB9999 不存在"]


def test_cycle_in_the_tree_is_refused(runtime, roster_copy):
    def make_cycle(rows):
        for r in rows:
            if r[0] == "DW01":
                r[3] = "ZJ01"
        return rows + [["ZJ01", "某总支", "党总支", "DW01", "", "", ""]]
    edit_orgs(roster_copy, make_cycle)
    with pytest.raises(RosterError) as err:
        run_import(runtime, roster_copy)
    text = "\n".join(err.value.problems)
    assert "组织 DW01 的上下级关系成环" in text and "组织 ZJ01 的上下级关系成环" in text


def test_missing_required_column_is_named(runtime, roster_copy):
    edit_members(roster_copy, lambda rows: [r[:3] + r[4:] for r in rows])  # drop branch_code
    with pytest.raises(RosterError) as err:
        run_import(runtime, roster_copy)
    assert err.value.problems == ["members.csv：缺少必需的列 branch_code"]


def test_missing_file_is_a_clear_error(runtime, tmp_path):
    with pytest.raises(RosterError, match="不存在"):
        run_import(runtime, tmp_path / "nowhere.xlsx")


def test_cli_reports_bad_rows_without_traceback(tmp_path, roster_copy):
    import subprocess
    import sys
    edit_members(roster_copy, lambda rows: rows + [bad_member_row(branch_code="ZB9999")])
    env = {"ZHIBU_DATABASE__URL": f"sqlite:///{tmp_path}/cli.db", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "bot", "import-roster", str(roster_copy)],
                          capture_output=True, text=True, env=env,
                          cwd=str(ROSTER_DIR.parent.parent))
    assert done.returncode == 2
    assert "members.csv 第 951 行：所在支部编码 ZB9999 不存在" in done.stderr
    assert "Traceback" not in done.stderr


def test_roster_group_columns_become_addresses_and_others_stay(runtime, roster_copy):
    from storage.addresses import add_address
    run_import(runtime, roster_copy)
    with transaction(runtime.sessions) as s:  # an address the roster does not carry
        add_address(s, "org:ZB0002", "log", "data/zb0002.log", runtime.clock.now())

    def change(rows):
        for r in rows:
            if r[0] == "ZB0002":
                r[5], r[6] = "robot-new-0002", "chat70002"  # robot_key, chat_id
        return rows

    edit_orgs(roster_copy, change)
    summary = run_import(runtime, roster_copy)["orgs"]
    assert (summary.updated, summary.unchanged) == (1, 40)
    with runtime.sessions() as s:
        assert group_addresses(s, "ZB0002") == {"wecom_robot": "robot-new-0002", "wecom_appchat": "chat70002",
                                                "log": "data/zb0002.log"}
    edit_orgs(roster_copy, lambda rows: [r[:5] + ["", ""] if r[0] == "ZB0002" else r for r in rows])
    assert run_import(runtime, roster_copy)["orgs"].updated == 1
    with runtime.sessions() as s:
        assert group_addresses(s, "ZB0002") == {"log": "data/zb0002.log"}
