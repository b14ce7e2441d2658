"""Reading a roster: an .xlsx (sheets 组织 and 党员, Chinese headers) or a
folder with organizations.csv + members.csv (English headers), into plain
rows with canonical English keys. Pure apart from reading the file; the
checks live in roster_check.py.

python-calamine reads .xlsx about 8× faster than openpyxl's read-only mode
(0.9 s against 7 s for 100,000 rows), which is what keeps a county-sized
import within seconds. It loads a sheet whole, as one dense rectangle, so
an .xlsx is measured first (xlsx_size.py) and an absurd one refused by
name. A CSV is streamed; it may be UTF-8 (with or without the BOM) or GBK,
which is what Excel on a Chinese Windows saves as "CSV"."""
from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterator

from storage.importers.xlsx_size import SheetTooLarge, check_xlsx

ORG_COLUMNS = {  # english key: xlsx header
    "code": "组织编码", "name": "组织名称", "type": "组织类别",
    "parent_code": "上级组织编码", "category": "领域",
    "robot_key": "群机器人key", "chat_id": "应用群聊chatid",
    "term_start": "换届时间", "term_end": "届满时间",
}
# Columns a roster may leave out (they came later): read as empty.
OPTIONAL = {"robot_key", "chat_id", "term_start", "term_end"}
MEMBER_COLUMNS = {
    "name": "姓名", "wecom_userid": "企业微信账号", "mobile": "手机号",
    "branch_code": "所在支部编码", "role": "职务", "status": "党员类别",
    "mobile_member": "流动党员", "outflow_city": "流入地", "retired": "离退休",
    "joined_on": "入党日期",
}
# 发展党员: one row per step a person reached (the chat's `发展 姓名 阶段 日期`).
DEVELOPMENT_COLUMNS = {"name": "姓名", "branch_code": "所在支部编码", "stage": "阶段", "day": "日期"}
ORG_SHEET, MEMBER_SHEET, DEVELOPMENT_SHEET = "组织", "党员", "发展党员"
ORG_CSV, MEMBER_CSV, DEVELOPMENT_CSV = "organizations.csv", "members.csv", "development.csv"
SAVE_AS = "请在 Excel 中“另存为”，类型选“CSV UTF-8（逗号分隔）”或“CSV（逗号分隔）”"


class RosterError(Exception):
    """The roster cannot be imported; `problems` lists every bad row."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(slots=True)
class Row:
    source: str  # "members.csv" / "roster.xlsx[党员]"
    number: int  # the row as the user sees it (header = 1)
    values: dict[str, str]

    @property
    def where(self) -> str:
        return f"{self.source} 第 {self.number} 行"


@dataclass
class RosterRows:
    orgs: list[Row] = field(default_factory=list)
    members: list[Row] = field(default_factory=list)
    development: list[Row] | None = None  # None: the roster has no 发展党员 sheet (the register is left alone)


def read_roster(path: str | Path) -> RosterRows:
    path = Path(path)
    if not path.exists():
        raise RosterError([f"{path}：文件或文件夹不存在"])
    if path.is_dir():
        development = path / DEVELOPMENT_CSV
        return RosterRows(_read_csv(path / ORG_CSV, ORG_COLUMNS),
                          _read_csv(path / MEMBER_CSV, MEMBER_COLUMNS),
                          _read_csv(development, DEVELOPMENT_COLUMNS) if development.exists() else None)
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        return _read_xlsx(path)
    raise RosterError([f"{path}：应为 .xlsx 文件，或含 {ORG_CSV} 和 {MEMBER_CSV} 的文件夹"])


def _cell(value: Any) -> str:
    """Normalise a cell to text; Excel dates become YYYY-MM-DD."""
    if value.__class__ is str:  # the common case first: 1M cells per 100k members
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows(table: Iterator[list[Any]], columns: dict[str, str], headers_in: str,
          where: str) -> list[Row]:
    """Rows with canonical keys; `table` is consumed lazily (memory stays flat)."""
    first = next(table, None)
    if first is None:
        raise RosterError([f"{where}：是空的，缺少表头"])
    header = [_cell(h) for h in first]
    wanted = {key: (columns[key] if headers_in == "zh" else key) for key in columns}
    missing = [h for key, h in wanted.items() if h not in header and key not in OPTIONAL]
    if missing:
        raise RosterError([f"{where}：缺少必需的列 {'、'.join(missing)}"])
    absent = [key for key, h in wanted.items() if h not in header]
    header.append("")  # an absent optional column reads this empty cell
    index = {key: header.index(h) if key not in absent else len(header) - 1 for key, h in wanted.items()}
    rows = []
    width = max(index.values()) + 1
    for number, raw in enumerate(table, start=2):
        if len(raw) < width:
            raw = [*raw, *[""] * (width - len(raw))]
        values = {k: _cell(raw[i]) for k, i in index.items()}
        if any(values.values()):
            rows.append(Row(where, number, values))
    return rows


def _read_csv(path: Path, columns: dict[str, str]) -> list[Row]:
    if not path.exists():
        raise RosterError([f"{path}：文件不存在"])
    with path.open(encoding=csv_encoding(path), newline="") as f:
        reader = csv.reader(f)
        try:
            return _rows(reader, columns, "en", path.name)
        except csv.Error as e:  # a field over 128 KB, a stray quote at the end…
            raise RosterError([f"{path.name} 第 {reader.line_num} 行：不是有效的 CSV（{e}）"]) from None


def csv_encoding(path: Path) -> str:
    """utf-8-sig, utf-8 or gb18030 (GBK's superset), whichever reads the
    whole file (read in 1 MB pieces); RosterError naming the line otherwise.
    A UTF-8 file read as GBK by mistake would not pass unnoticed: its 职务
    and 党员类别 would be nonsense, and every row would be refused."""
    with path.open("rb") as f:
        head = f.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise RosterError([f"{path.name}：文件是 UTF-16 编码（Excel 的“Unicode 文本”），无法导入。{SAVE_AS}。"])
    if head.startswith(codecs.BOM_UTF8):
        candidates = ("utf-8-sig",)
    else:
        candidates = ("utf-8", "gb18030")
    first_break = None
    for encoding in candidates:
        line = _breaks_at(path, encoding)
        if line is None:
            return encoding
        first_break = first_break or line
    raise RosterError([f"{path.name} 第 {first_break} 行：有无法识别的字符，文件编码应为 UTF-8 或 GBK。{SAVE_AS}。"])


def _breaks_at(path: Path, encoding: str) -> int | None:
    """The line where `encoding` fails to read the file; None if it reads it all."""
    decoder, line = codecs.getincrementaldecoder(encoding)(), 1
    with path.open("rb") as f:
        while piece := f.read(1 << 20):
            try:
                decoder.decode(piece)
            except UnicodeDecodeError as e:
                return line + piece[:max(e.start, 0)].count(b"\n")
            line += piece.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return line
    return None


def _read_xlsx(path: Path) -> RosterRows:
    from python_calamine import CalamineWorkbook

    if path.suffix.lower() != ".xls":  # .xls is not a zip; its own format caps it at 65,536 × 256
        try:
            check_xlsx(str(path), (ORG_SHEET, MEMBER_SHEET, DEVELOPMENT_SHEET))
        except SheetTooLarge as e:
            raise RosterError([f"{path.name}：{e}"]) from None
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as e:  # calamine raises its own types for broken files
        raise RosterError([f"{path.name}：无法读取 Excel 文件（{e}）"]) from None
    for sheet in (ORG_SHEET, MEMBER_SHEET):
        if sheet not in book.sheet_names:
            raise RosterError([f"{path.name}：缺少工作表“{sheet}”"])

    def table(sheet: str) -> Iterator[list[Any]]:
        return book.get_sheet_by_name(sheet).iter_rows()

    development = None
    if DEVELOPMENT_SHEET in book.sheet_names:
        development = _rows(table(DEVELOPMENT_SHEET), DEVELOPMENT_COLUMNS, "zh",
                            f"{path.name}[{DEVELOPMENT_SHEET}]")
    return RosterRows(
        _rows(table(ORG_SHEET), ORG_COLUMNS, "zh", f"{path.name}[{ORG_SHEET}]"),
        _rows(table(MEMBER_SHEET), MEMBER_COLUMNS, "zh", f"{path.name}[{MEMBER_SHEET}]"),
        development)
