"""Measuring an .xlsx before python-calamine opens it.

calamine reads a whole sheet into one dense rectangle, from the first used
cell to the last: a 2 KB file with cells at A1 and XFD1048576 asks for
16,384 × 1,048,576 cells (512 GB) and the process dies on a failed
allocation — no exception, no message. calamine 0.5.4 offers no way to see
a sheet's size without loading it, so this module reads the sheet's XML
itself, streamed in 1 MB pieces (memory stays flat whatever the size), and
finds the rectangle calamine would allocate: the largest row and column any
cell names (`<c r="XFD1048576">`) or takes by position (a cell or row
without `r` follows the one before). The `<dimension>` element is not
trusted: it is what the writer claimed, not what the cells say. The parts
calamine reads whole when it opens the file (shared strings, styles) are
inflated once, without keeping them, so a zip bomb stops at a limit.

The fast path counts with regular expressions on the tags Excel, WPS and
openpyxl write (`<c r="B7" …>`); anything else — a namespace prefix
(`<x:c>`), a cell without `r`, an attribute holding a `>` — is walked
tag by tag instead: slower, just as exact."""
from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from typing import BinaryIO, Iterator

import defusedxml
from defusedxml import ElementTree

MAX_ROWS = 300_000         # a county's roster is tens of thousands; 3× the import benchmark
MAX_COLUMNS = 200          # the roster has about ten columns
MAX_CELLS = 6_000_000      # rows × columns of the rectangle: ~200 MB in calamine (32 bytes a cell)
MAX_XML_BYTES = 1 << 30    # a part inflating past 1 GB is a zip bomb, not a roster
MAX_INDEX_BYTES = 8 << 20  # workbook.xml and its relationships: a few KB in any real file
CHUNK = 1 << 20
MAX_RUN = 16 << 20         # one tag or text: Excel's own cell limit is 32,767 characters
WORKBOOK = "xl/workbook.xml"   # where calamine looks, whatever _rels/.rels says
READ_WHOLE = {"xl/sharedStrings.xml": "共享字符串表", "xl/styles.xml": "样式表"}


class SheetTooLarge(Exception):
    """The file cannot be measured or is beyond the limits; str() says why in Chinese."""


@dataclass(frozen=True)
class Extent:
    rows: int = 0
    columns: int = 0

    def grow(self, row: int, column: int) -> "Extent":
        return self if row <= self.rows and column <= self.columns else \
            Extent(max(row, self.rows), max(column, self.columns))

    @property
    def last_cell(self) -> str:
        """The far corner as Excel names it: XFD1048576."""
        return f"{column_name(self.columns)}{self.rows}"


def column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ch - 64
    return number


def column_name(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def check_xlsx(path: str, sheets: tuple[str, ...]) -> None:
    """Refuse (SheetTooLarge) an .xlsx that calamine could not open safely;
    the message names the sheet, the size found and the limits. A missing
    sheet is left for the reader to name."""
    try:
        with zipfile.ZipFile(path) as book:
            for name, what in READ_WHOLE.items():
                if name in book.NameToInfo:
                    with book.open(name) as stream:
                        for _ in _pieces(stream, what):
                            pass
            parts = _sheet_parts(book)
            for sheet in sheets:
                if sheet in parts:  # a sheet not there at all: the reader says it is missing
                    _within_limits(sheet, measure(book, parts[sheet], sheet))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ElementTree.ParseError,
            defusedxml.DefusedXmlException, OSError, EOFError, ValueError) as e:
        raise SheetTooLarge(f"不是有效的 .xlsx 文件，或文件已损坏（{type(e).__name__}）。"
                            "请在 Excel 或 WPS 中打开后另存为 .xlsx 再导入。") from None


def _within_limits(sheet: str, extent: Extent) -> None:
    if extent.rows <= MAX_ROWS and extent.columns <= MAX_COLUMNS and extent.rows * extent.columns <= MAX_CELLS:
        return
    raise SheetTooLarge(
        f"工作表“{sheet}”用到了 {extent.rows:,} 行、{extent.columns:,} 列（最远的单元格是 {extent.last_cell}），"
        f"超出名册的合理范围（最多 {MAX_ROWS:,} 行、{MAX_COLUMNS} 列）。"
        "多半是远处有误填或带格式的单元格：请删除名册数据以外的行和列，另存后再导入。")


def _read_small(book: zipfile.ZipFile, name: str) -> bytes:
    with book.open(name) as f:
        data = f.read(MAX_INDEX_BYTES + 1)
    if len(data) > MAX_INDEX_BYTES:
        raise ValueError(f"{name} is too large")
    return data


def _sheet_parts(book: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → the zip entry of its XML, found as calamine finds it:
    workbook.xml names the sheets, its relationships name the parts."""
    rels_root = ElementTree.fromstring(_read_small(book, "xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels_root}
    parts = {}
    for element in ElementTree.fromstring(_read_small(book, WORKBOOK)).iter():
        if element.tag.rsplit("}", 1)[-1] != "sheet":
            continue
        rel_id = next((v for k, v in element.attrib.items() if k.endswith("}id")), None)
        target = targets.get(rel_id, "")
        joined = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        parts[element.get("name", "")] = posixpath.normpath(joined) if target else ""
    return parts


def _pieces(stream: BinaryIO, what: str) -> Iterator[bytes]:
    """The entry's bytes in pieces that each end before a `<`, so no tag is
    split between two (XML allows no `<` inside a tag); stops a zip bomb at
    MAX_XML_BYTES and a single tag or text longer than MAX_RUN."""
    carry, total = b"", 0
    while piece := stream.read(CHUNK):
        total += len(piece)
        if total > MAX_XML_BYTES:
            raise SheetTooLarge(f"{what}解压后超过 {MAX_XML_BYTES >> 20} MB，不像是名册（可能是压缩炸弹）。")
        buffer = carry + piece
        cut = buffer.rfind(b"<")
        if cut < 0:  # text only: no tag to keep whole
            carry, cut = b"", len(buffer)
        else:
            carry = buffer[cut:]
        if len(carry) > MAX_RUN:
            raise SheetTooLarge(f"{what}中有一个超过 {MAX_RUN >> 20} MB 的单元格或标记，不像是名册。")
        if cut:
            yield buffer[:cut]
    if carry:
        yield carry


# The quick way: the shape Excel, WPS and openpyxl write. A piece is measured
# so only when every `<c`/`<row` in it is `<c r="B7"`/`<row r="7"` (the counts
# below must agree); any other piece is walked tag by tag.
_CELL_REF_FIRST = re.compile(rb'<c r="([A-Z]{1,4})([0-9]{1,9})"')   # r first: 30× faster to find
_CELL_REF = re.compile(rb'<c (?:[^<>]*?[ \t\r\n])?r="([A-Z]{1,4})([0-9]{1,9})"')
_ROW_REF = re.compile(rb'<row (?:[^<>]*?[ \t\r\n])?r="([0-9]{1,9})"')
# The walk: any prefix, either quote, quoted values that may hold `>` (never `<`).
_ATTRIBUTES = rb"""((?:[^<>"']|"[^<"]*"|'[^<']*')*)"""
_ANY_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(c|row)(?=[ \t\r\n/>])" + _ATTRIBUTES + rb">")
_REF = re.compile(rb"""[ \t\r\n]r[ \t\r\n]*=[ \t\r\n]*["']([A-Z]*)([0-9]*)["']""")


@dataclass
class _Cursor:
    """Where the reader is: cells and rows without `r` follow it."""
    row: int = 0
    column: int = 0
    extent: Extent = Extent()


def measure(book: zipfile.ZipFile, part: str, sheet: str) -> Extent:
    """The rectangle calamine would allocate for this sheet."""
    cursor = _Cursor()
    with book.open(part) as stream:
        for piece in _pieces(stream, f"工作表“{sheet}”"):
            if not _quick(piece, cursor):
                _walk(piece, cursor)
    return cursor.extent


def _quick(piece: bytes, cursor: _Cursor) -> bool:
    """Measure a piece by counting, if every tag in it names its cell."""
    cells, rows = piece.count(b"<c "), piece.count(b"<row ")
    if piece.count(b"<c") != cells or piece.count(b"<row") != rows:
        return False  # <cols>, <c/>, <c\n…>: walk it
    if b":" in piece and (b":c" in piece or b":row" in piece):
        return False  # perhaps a prefixed <x:c>
    refs = _CELL_REF_FIRST.findall(piece)
    if len(refs) != cells:
        refs = _CELL_REF.findall(piece)
    row_refs = _ROW_REF.findall(piece)
    if len(refs) != cells or len(row_refs) != rows:
        return False
    if refs:
        letters, numbers = zip(*refs)
        widest = max(set(letters), key=lambda c: (len(c), c))
        cursor.extent = cursor.extent.grow(max(map(int, numbers)), column_number(widest))
        cursor.row, cursor.column = int(refs[-1][1]), column_number(refs[-1][0])
    if row_refs and piece.rfind(b"<row ") > piece.rfind(b"<c "):
        cursor.row, cursor.column = int(row_refs[-1]), 0
    return True


def _walk(piece: bytes, cursor: _Cursor) -> None:
    """Tag by tag: a row or cell without `r` takes the next position."""
    for match in _ANY_TAG.finditer(piece):
        ref = _REF.search(match.group(2))
        letters, digits = (ref.group(1)[:4], ref.group(2)[:9]) if ref else (b"", b"")
        if match.group(1) == b"row":
            cursor.row, cursor.column = (int(digits) if digits else cursor.row + 1), 0
            continue
        cursor.row = int(digits) if digits else cursor.row
        cursor.column = column_number(letters) if letters else cursor.column + 1
        cursor.extent = cursor.extent.grow(cursor.row, cursor.column)
