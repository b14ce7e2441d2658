"""Staff-entered 锋领考评 scores (satisfaction; job performance for 国企 and
非公企业 branches) from an .xlsx with the radar export's layout: staff fill
the 满意度 / 岗位业绩 columns of the exported sheet and import it. Every row
is checked first; one bad row and nothing is written (the errors name each
row). A blank cell leaves what was entered before."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from storage.importers.roster_read import _cell
from storage.importers.xlsx_size import SheetTooLarge, check_xlsx
from storage.month import Quarter
from storage.radar import PERFORMANCE_CATEGORIES, appraisable, save_appraisals

SHEET = "锋领考评"
ID, NAME, SATISFACTION, PERFORMANCE = "编号", "姓名", "满意度", "岗位业绩"
REQUIRED = (ID, NAME, SATISFACTION)
BLANK = ("", "-", "—", "／", "/")


class AppraisalError(Exception):
    """Row-level problems; nothing was written."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _score(text: str, column: str, where: str, problems: list[str]) -> int | None:
    if text in BLANK:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value.is_integer() or not 0 <= value <= 100:
        problems.append(f"{where}：{column}“{text}”应为 0 至 100 的整数")
        return None
    return int(value)


def read_appraisals(path: str | Path) -> list[tuple[str, str, str, str]]:
    """(where, 编号, 姓名, 满意度, 岗位业绩) of each non-empty row, as text."""
    from python_calamine import CalamineWorkbook
    path = Path(path)
    try:
        check_xlsx(str(path), (SHEET,))
        book = CalamineWorkbook.from_path(str(path))
    except SheetTooLarge as e:
        raise AppraisalError([f"{path.name}：{e}"]) from None
    except Exception as e:  # calamine and zipfile raise their own types for broken files
        raise AppraisalError([f"{path.name}：无法读取 Excel 文件（{e}）"]) from None
    if SHEET not in book.sheet_names:
        raise AppraisalError([f"{path.name}：缺少工作表“{SHEET}”（请用 radar 导出的文件填写）"])
    table = iter(book.get_sheet_by_name(SHEET).iter_rows())
    header = [_cell(h) for h in next(table, [])]
    missing = [h for h in REQUIRED if h not in header]
    if missing:
        raise AppraisalError([f"{path.name}[{SHEET}]：缺少必需的列 {'、'.join(missing)}"])
    index = [header.index(h) if h in header else None for h in (ID, NAME, SATISFACTION, PERFORMANCE)]
    rows = []
    for number, raw in enumerate(table, start=2):
        values = [_cell(raw[i]) if i is not None and i < len(raw) else "" for i in index]
        if any(values):
            rows.append((f"{path.name}[{SHEET}] 第{number}行", *values))
    return rows


def import_appraisals(session: Session, path: str | Path, quarter: Quarter, now: datetime) -> int:
    """Check every row, then write them all (or raise AppraisalError and
    write nothing). How many members' scores were written."""
    rows = read_appraisals(path)
    problems: list[str] = []
    ids: dict[int, str] = {}
    parsed = []
    for where, id_text, name, satisfaction, performance in rows:
        if not id_text.isdigit():
            problems.append(f"{where}：编号“{id_text}”无效（应为导出文件中的编号）")
            continue
        member_id = int(id_text)
        if member_id in ids:
            problems.append(f"{where}：编号 {member_id} 与{ids[member_id].rsplit(' ', 1)[-1]}重复")
            continue
        ids[member_id] = where
        parsed.append((where, member_id, name, satisfaction, performance))
    known = appraisable(session, list(ids))
    entries: dict[int, tuple[int | None, int | None]] = {}
    for where, member_id, name, satisfaction, performance in parsed:
        if member_id not in known or not known[member_id][2]:
            problems.append(f"{where}：编号 {member_id} 不是在册支部的党员")
            continue
        real, category, _ = known[member_id]
        if name != real:
            problems.append(f"{where}：编号 {member_id} 是“{real}”，不是“{name}”")
            continue
        s = _score(satisfaction, SATISFACTION, where, problems)
        p = _score(performance, PERFORMANCE, where, problems)
        if p is not None and category not in PERFORMANCE_CATEGORIES:
            problems.append(f"{where}：{real}所在支部（{category or '未分类'}）不考评岗位业绩，"
                            f"只有{'、'.join(PERFORMANCE_CATEGORIES)}支部考评")
            continue
        if s is not None or p is not None:
            entries[member_id] = (s, p)
    if problems:  # in the sheet's order
        raise AppraisalError(sorted(problems, key=lambda p: int(p.split(" 第", 1)[1].split("行", 1)[0])))
    return save_appraisals(session, quarter, entries, now)
