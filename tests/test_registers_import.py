"""The roster's 发展党员 sheet (development.csv, GBK too) and the
换届时间 / 届满时间 columns (issue 14): imported through the roster's
machinery, every bad row named in Chinese, nothing written when any is bad."""
import csv
import shutil
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from storage.db import transaction
from storage.importers.roster_import import import_roster
from storage.importers.roster_read import RosterError
from storage.models import Development, Organization
from tests.conftest import ROSTER_XLSX

HEADER = ["name", "branch_code", "stage", "day"]


def run_import(rt, path):
    with transaction(rt.sessions) as session:
        return import_roster(session, path, rt.clock.now())


def write_development(folder, rows, encoding="utf-8"):
    with (folder / "development.csv").open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows([HEADER, *rows])


def with_terms(folder, terms: dict[str, tuple[str, str]]):
    path = folder / "organizations.csv"
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    rows[0] += ["term_start", "term_end"]
    for row in rows[1:]:
        row += list(terms.get(row[0], ("", "")))
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


def people(rt):
    with rt.sessions() as s:
        return {d.name: d for d in s.scalars(select(Development))}


def term_of(rt, code):
    with rt.sessions() as s:
        org = s.scalar(select(Organization).where(Organization.code == code))
        return org.term_start, org.term_end


def test_development_and_terms_from_a_gbk_csv_roster(runtime, roster_copy):
    write_development(roster_copy, [["张三", "ZB0001", "入党申请人", "2025-03-02"],
                                    ["张三", "ZB0001", "积极分子", "2025/05/01"],
                                    ["李四", "ZB0004", "申请", "2026-09-01"],
                                    ["李四", "ZB0004", "谈话", "2026-09-20"]], encoding="gbk")
    with_terms(roster_copy, {"ZB0001": ("2023-06-30", "2028-06-29"), "DW01": ("2022-01-10", "2027-01-09")})
    summary = run_import(runtime, roster_copy)
    assert str(summary["development"]) == "新增 2，更新 0，停用 0，未变 0"
    found = people(runtime)
    assert found["张三"].applied_on == date(2025, 3, 2) and found["张三"].activist_on == date(2025, 5, 1)
    assert found["李四"].talked_on == date(2026, 9, 20)
    assert term_of(runtime, "ZB0001") == (date(2023, 6, 30), date(2028, 6, 29))
    assert term_of(runtime, "ZB0002") == (None, None)
    # again: nothing changes; a later step is added to the register's dates
    assert str(run_import(runtime, roster_copy)["development"]) == "新增 0，更新 0，停用 0，未变 2"
    write_development(roster_copy, [["张三", "ZB0001", "发展对象", "2026-06-01"]])
    assert str(run_import(runtime, roster_copy)["development"]) == "新增 0，更新 1，停用 0，未变 0"
    assert people(runtime)["张三"].candidate_on == date(2026, 6, 1)
    assert people(runtime)["张三"].applied_on == date(2025, 3, 2)  # kept


def test_a_roster_without_the_sheet_or_columns_still_imports(runtime, roster_copy):
    summary = run_import(runtime, roster_copy)
    assert "development" not in summary and people(runtime) == {}


@pytest.mark.parametrize("rows, problem", [
    ([["张三", "ZB0001", "候选人", "2025-03-02"]], "development.csv 第 2 行：阶段“候选人”无效，应为 入党申请人、入党积极分子"),
    ([["张三", "ZB0001", "申请", "2025-03-02"], ["张三", "ZB0001", "积极分子", "2025-01-05"]],
     "development.csv 第 3 行：张三（ZB0001）入党积极分子日期 2025-01-05 早于入党申请人日期 2025-03-02"),
    ([["张三", "ZB0001", "积极分子", "2025-01-05"]], "development.csv 第 2 行：张三（ZB0001）有入党积极分子日期（2025-01-05），但缺少入党申请人日期"),
    ([["张三", "ZB0001", "申请", "2024-01-05"], ["张三", "ZB0001", "积极分子", "2024-03-01"],
      ["张三", "ZB0001", "发展对象", "2024-12-01"]], "development.csv 第 4 行：张三（ZB0001）发展对象日期 2024-12-01 距确定入党积极分子"),
    ([["张三", "ZB9999", "申请", "2025-03-02"]], "development.csv 第 2 行：所在支部编码 ZB9999 不存在"),
    ([["张三", "DW01", "申请", "2025-03-02"]], "development.csv 第 2 行：DW01 不是党支部"),
    ([["张三", "ZB0001", "申请", "2025-02-30"]], "development.csv 第 2 行：日期“2025-02-30”无效"),
    ([["张三", "ZB0001", "申请", "2099-02-03"]], "development.csv 第 2 行：张三（ZB0001）入党申请人日期 2099-02-03 晚于今天"),
])
def test_bad_development_rows_are_named_and_nothing_is_written(runtime, roster_copy, rows, problem):
    write_development(roster_copy, [["王五", "ZB0002", "申请", "2025-03-02"], *rows])
    # the row numbers above count without 王五's row: shift by one
    problem = problem.replace("第 2 行", "第 3 行", 1) if "第 2 行" in problem else \
        problem.replace("第 3 行", "第 4 行", 1).replace("第 4 行：张三", "第 5 行：张三", 1) \
        if "第 4 行：张三" in problem else problem.replace("第 3 行", "第 4 行", 1)
    with pytest.raises(RosterError) as refused:
        run_import(runtime, roster_copy)
    assert any(problem in p for p in refused.value.problems), refused.value.problems
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Organization)) == 0   # nothing at all was written
        assert s.scalar(select(func.count()).select_from(Development)) == 0


def test_a_step_that_breaks_the_register_is_refused(runtime, roster_copy):
    write_development(roster_copy, [["张三", "ZB0001", "申请", "2025-03-02"]])
    run_import(runtime, roster_copy)
    write_development(roster_copy, [["张三", "ZB0001", "积极分子", "2025-01-02"]])
    with pytest.raises(RosterError) as refused:
        run_import(runtime, roster_copy)
    assert refused.value.problems == [
        "development.csv 第 2 行：张三（ZB0001）入党积极分子日期 2025-01-02 早于入党申请人日期 2025-03-02，顺序不对"]
    assert people(runtime)["张三"].activist_on is None


@pytest.mark.parametrize("terms, problem", [
    (("2028-06-30", "2023-06-30"), "届满时间 2023-06-30 早于换届时间 2028-06-30"),
    (("2023-06-30", "2023-06-30"), "届满时间 2023-06-30 早于换届时间 2023-06-30"),
    (("", "2028-06-30"), "填了届满时间，缺少换届时间"),
    (("2023-13-01", "2028-06-30"), "换届时间“2023-13-01”无效"),
])
def test_a_bad_term_is_named_and_nothing_is_written(runtime, roster_copy, terms, problem):
    with_terms(roster_copy, {"ZB0003": terms})
    with pytest.raises(RosterError) as refused:
        run_import(runtime, roster_copy)
    assert refused.value.problems[0].startswith(f"organizations.csv 第 9 行：{problem}")
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Organization)) == 0


def test_the_development_sheet_of_an_xlsx_roster(runtime, tmp_path):
    path = tmp_path / "roster.xlsx"
    shutil.copy(ROSTER_XLSX, path)
    book = load_workbook(path)
    sheet = book.create_sheet("发展党员")
    sheet.append(["姓名", "所在支部编码", "阶段", "日期"])
    sheet.append(["赵六", "ZB0005", "入党申请人", date(2026, 4, 1)])   # a real Excel date
    sheet.append(["赵六", "ZB0005", "入党积极分子", "2026-06-01"])
    book.save(path)
    assert str(run_import(runtime, path)["development"]) == "新增 1，更新 0，停用 0，未变 0"
    assert people(runtime)["赵六"].activist_on == date(2026, 6, 1)
    sheet.append(["孙七", "ZB0005", "预备", "2026-06-01"])
    book.save(path)
    with pytest.raises(RosterError) as refused:
        run_import(runtime, path)
    assert refused.value.problems == [
        "roster.xlsx[发展党员] 第 4 行：孙七（ZB0005）有预备党员日期（2026-06-01），但缺少发展对象日期：请先登记发展对象"]


def test_the_example_development_sheet_imports(runtime, roster_copy):
    """examples/development.csv, as the README shows it, in a roster folder."""
    from tests.conftest import EXAMPLES
    shutil.copy(EXAMPLES / "development.csv", roster_copy / "development.csv")
    assert str(run_import(runtime, roster_copy)["development"]) == "新增 3，更新 0，停用 0，未变 0"
    assert people(runtime)["王建国"].probation_on == date(2026, 1, 10)
