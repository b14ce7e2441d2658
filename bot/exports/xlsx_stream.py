"""The streaming .xlsx writer every export uses (ledger, bulletin).

Why not a library (issue 16): on the ledger bench — 1,000 branches × 12
months, ~121,000 rows, ~1.2 million cells in 1,001 sheets — each writer
asked for the same workbook (dates with a format, counts as numbers, red
marks, widths, frozen header, page set-up), rows rendered inside the timing,
in one process, best of 3 (`bench/ledger_bench.py --compare`, the shared
2-core box; CPU time, as the wall time swung with the load):

    this writer                   0.90 s CPU  1.0×
    rustpy-xlsxwriter 0.8.0       1.64 s      1.8×  (2.0× in another run) styles whole columns only:
                                                    a quote prefix on every text cell, the mark column red
    pyexcelerate 0.13.0           5.48 s      6.1×  no page set-up at all; "=…" text becomes a formula
    XlsxWriter 3.3.1 (const mem)  5.74 s      6.4×  the reference for what is written here

None meets the goal (export ≤ 3 s, or ≤ 1.2× this writer), so the writer
stays, made correct and tested: openpyxl and python-calamine read it back,
LibreOffice opens every export (tests/test_exports_office.py).

What a workbook gets, on every sheet:
- text as inline strings: XML-escaped (text and attributes), control
  characters (other than tab, CR and LF) and unpaired surrogates removed,
  Excel's `_xHHHH_` escape escaped; text that starts with = + - @ gets the
  quote-prefix style, so editing it never turns it into a formula. No cell
  is ever a formula.
- dates and datetimes as serial numbers with a yyyy-mm-dd (hh:mm) format;
  ints with the "0" format; floats in `percent` columns with "0%".
- a valid, unique sheet name (`SheetNames`), the header row frozen and
  repeated on every printed page, landscape A4 fit to one page wide, a
  footer with the sheet name, page number and export time (and a header
  with the sheet's caption when given); the first sheet selected and active.
- no ZIP64 records (Office's web Excel has been reported to reject them);
  zipfile refuses a part over 2 GiB instead — some 15 million ledger rows.

Print titles cost LibreOffice 7.4 ~0.08 s a sheet when it opens the file
(a whole-row reference makes it allocate all 16,384 columns): ~100 s for a
1,000-sheet ledger instead of ~20 s. Excel takes print titles only as whole
rows, so they stay whole rows.
"""
from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from itertools import chain, repeat
from pathlib import Path
from typing import Collection, Iterable, Sequence

# Style ids in STYLES' cellXfs.
PLAIN, HEADER, MARK, DATE, DATETIME, COUNT, PERCENT, PLAIN_Q, HEADER_Q, MARK_Q = range(10)
QUOTED = {PLAIN: PLAIN_Q, HEADER: HEADER_Q, MARK: MARK_Q}  # a text style → with the quote prefix
# XML 1.0 forbids C0 controls but tab, LF, CR; C1 controls and lone surrogates
# are removed too (a lone surrogate cannot even be encoded as UTF-8).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})
_XESCAPE = re.compile("(?=_x[0-9A-Fa-f]{4}_)")  # Excel reads _x0041_ as "A": write _x005F_x0041_
_FORMULA_START = frozenset("=+-@")
_S = [f' s="{i}"' if i else "" for i in range(10)]  # the style attribute of each style id
_EPOCH = date(1899, 12, 30).toordinal()  # Excel's day 0 (1900 date system, after its leap-year bug)
MAX_NAME = 31  # UTF-16 code units
_NAME_ILLEGAL = re.compile("[\\[\\]:*?/\\\\\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Readers disagree on whether a sheet name's _x0041_ is an escape (LibreOffice
# and Excel decode it, openpyxl does not): the name gets a full-width ＿ there.
_NAME_XESCAPE = re.compile("_(?=x[0-9A-Fa-f]{4}_)")

SPREADSHEETML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
CONTENT_TYPES = (
    XML_HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '{sheets}</Types>')
SHEET_TYPE = ('<Override PartName="/xl/worksheets/sheet{n}.xml" '
              'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
ROOT_RELS = (
    XML_HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_FONTS = '<font><sz val="11"/><name val="等线"/><family val="2"/><charset val="134"/></font>'
_XF = '<xf numFmtId="{fmt}" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"{extra}/>'
_XFS = [  # in the order of the style ids above
    _XF.format(fmt=0, font=0, fill=0, extra=""),
    _XF.format(fmt=0, font=1, fill=2, extra=' applyFont="1" applyFill="1"'),
    _XF.format(fmt=0, font=2, fill=0, extra=' applyFont="1"'),
    _XF.format(fmt=164, font=0, fill=0, extra=' applyNumberFormat="1"'),
    _XF.format(fmt=165, font=0, fill=0, extra=' applyNumberFormat="1"'),
    _XF.format(fmt=1, font=0, fill=0, extra=' applyNumberFormat="1"'),
    _XF.format(fmt=9, font=0, fill=0, extra=' applyNumberFormat="1"'),
    _XF.format(fmt=0, font=0, fill=0, extra=' quotePrefix="1"'),
    _XF.format(fmt=0, font=1, fill=2, extra=' applyFont="1" applyFill="1" quotePrefix="1"'),
    _XF.format(fmt=0, font=2, fill=0, extra=' applyFont="1" quotePrefix="1"'),
]
STYLES = (
    XML_HEAD + f'<styleSheet xmlns="{SPREADSHEETML}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy\\-mm\\-dd\\ hh:mm"/></numFmts>'
    '<fonts count="3">' + _FONTS + _FONTS.replace("<sz", "<b/><sz")
    + _FONTS.replace('<name', '<color rgb="FFC00000"/><name') + '</fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/></patternFill></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    f'<cellXfs count="{len(_XFS)}">{"".join(_XFS)}</cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')
# Print set-up: A4 landscape, one page wide and as many tall as needed.
PAGE_SETUP = ('<pageMargins left="0.5" right="0.5" top="0.6" bottom="0.7" header="0.3" footer="0.3"/>'
              '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>')


def xml_text(value: str) -> str:
    """Text for an element or an attribute value: escaped, nothing illegal."""
    text = _ILLEGAL.sub("", value).translate(_ESCAPE)
    return _XESCAPE.sub("_x005F", text) if "_x" in text else text


def excel_serial(moment: date) -> float | int:
    """Days since Excel's epoch (1899-12-30); a datetime's time as the fraction."""
    days = moment.toordinal() - _EPOCH
    if isinstance(moment, datetime):
        return days + (moment.hour * 3600 + moment.minute * 60 + moment.second) / 86400
    return days


def utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _cut(text: str, units: int) -> str:
    """The longest prefix of `text` of at most `units` UTF-16 units (a
    character outside the basic plane, like 𠮷, is two and never split)."""
    if len(text) * 2 <= units:
        return text
    used = 0
    for i, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > units:
            return text[:i]
    return text


class SheetNames:
    """Sheet names by Excel's rules: at most 31 UTF-16 units, none of
    []:*?/\\ or control characters (nor an _xHHHH_ escape), no apostrophe at either end, not
    "History", unique ignoring case. A clash gets "~2", "~3" … (the name cut
    to make room); each try is a new name, so the loop ends."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.tries: dict[str, int] = {}  # a clashing name → the next number to try

    def name(self, wanted: str, fallback: str = "Sheet") -> str:
        base = _trim(_NAME_XESCAPE.sub("＿", _NAME_ILLEGAL.sub("", wanted)).strip(), MAX_NAME) or fallback
        name = base
        while name.casefold() in self.used or name.casefold() == "history":
            n = self.tries.get(base.casefold(), 2)
            self.tries[base.casefold()] = n + 1
            suffix = f"~{n}"
            name = _trim(base, MAX_NAME - len(suffix)) + suffix
        self.used.add(name.casefold())
        return name


def _trim(name: str, units: int) -> str:
    return _cut(name.strip("'"), units).rstrip("' ").lstrip("' ")


def _footer(exported_at: datetime) -> str:
    """Header/footer codes: &A the sheet name, &P / &N page of pages."""
    return xml_text(f"&L&A&C第 &P 页，共 &N 页&R导出于 {exported_at:%Y-%m-%d %H:%M}")


def _header(caption: str) -> str:
    """A page header with the caption, centred ("&" is "&&" there; at most 120 units, doubled: Excel allows 255)."""
    return f"<oddHeader>{xml_text('&C' + _cut(caption, 120).replace('&', '&&'))}</oddHeader>" if caption else ""


class StreamingWorkbook:
    """add_sheet() as many times as needed, then close(). Each row is a
    sequence of values (str, int, float, date, datetime or None); `mark_last`
    styles the last column (under the last header) red; floats in the `percent` columns (0-based)
    show as percentages."""

    def __init__(self, path: str | Path, exported_at: datetime):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self.names = SheetNames()
        self.titles: list[str] = []
        self.footer = _footer(exported_at)
        self.cache: dict[tuple[str, int], str] = {}  # (text, style) → its <c>, bounded

    def add_sheet(self, title: str, headers: Sequence[str], widths: Sequence[float],
                  rows: Iterable[Sequence], mark_last: bool = False, percent: Collection[int] = (),
                  caption: str = "") -> str:
        """Writes the sheet; returns the name it was given (see SheetNames).
        `caption`, printed at the top of each page, says in full what a cut
        or renamed sheet name may no longer say."""
        name = self.names.name(title, f"Sheet{len(self.titles) + 1}")
        self.titles.append(name)
        cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
        head = "".join(_cell(h, HEADER) for h in headers)
        selected = ' tabSelected="1"' if len(self.titles) == 1 else ""
        styles = [PLAIN] * max(len(headers), len(widths))
        for i in percent:
            styles[i] = PERCENT
        if mark_last:
            styles[len(headers) - 1] = MARK
        cache = self.cache
        with self.zip.open(f"xl/worksheets/sheet{len(self.titles)}.xml", "w") as out:
            out.write((f'{XML_HEAD}<worksheet xmlns="{SPREADSHEETML}" xmlns:r="{RELATIONSHIPS}">'
                       '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
                       f'<sheetViews><sheetView{selected} workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                       'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>'
                       f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols>'
                       f'<sheetData><row r="1">{head}</row>').encode())
            chunk = []
            for number, row in enumerate(rows, 2):
                cells = []
                for value, style in zip(row, chain(styles, repeat(PLAIN))):
                    if type(value) is str:  # most cells; labels, states, months and names repeat a lot
                        cell = cache.get((value, style))
                        if cell is None:
                            cell = cache[value, style] = _cell(value, style)
                    else:
                        cell = _cell(value, style)
                    cells.append(cell)
                chunk.append(f'<row r="{number}">{"".join(cells)}</row>')
                if len(chunk) >= 2000:
                    out.write("".join(chunk).encode())
                    chunk = []
                    if len(cache) > 100_000:
                        cache.clear()
            out.write(("".join(chunk) + f"</sheetData>{PAGE_SETUP}<headerFooter>{_header(caption)}"
                       f"<oddFooter>{self.footer}</oddFooter></headerFooter></worksheet>").encode())
        return name

    def close(self) -> None:
        count = len(self.titles)
        sheets = "".join(f'<sheet name="{xml_text(t)}" sheetId="{i}" r:id="rId{i}"/>'
                         for i, t in enumerate(self.titles, 1))
        # Print titles: row 1 of each sheet on every page ('…' with ' doubled).
        titles = "".join('<definedName name="_xlnm.Print_Titles" localSheetId="{}">{}</definedName>'.format(
            i, xml_text("'" + t.replace("'", "''") + "'!$1:$1")) for i, t in enumerate(self.titles))
        rels = "".join(f'<Relationship Id="rId{i}" Type="{RELATIONSHIPS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                       for i in range(1, count + 1))
        rels += f'<Relationship Id="rId{count + 1}" Type="{RELATIONSHIPS}/styles" Target="styles.xml"/>'
        self.zip.writestr("[Content_Types].xml", CONTENT_TYPES.format(
            sheets="".join(SHEET_TYPE.format(n=i) for i in range(1, count + 1))))
        self.zip.writestr("_rels/.rels", ROOT_RELS)
        self.zip.writestr("xl/styles.xml", STYLES)
        self.zip.writestr("xl/workbook.xml", (
            f'{XML_HEAD}<workbook xmlns="{SPREADSHEETML}" xmlns:r="{RELATIONSHIPS}">'
            '<bookViews><workbookView activeTab="0" firstSheet="0"/></bookViews>'
            f'<sheets>{sheets}</sheets>' + (f'<definedNames>{titles}</definedNames>' if titles else "")
            + '</workbook>'))
        self.zip.writestr("xl/_rels/workbook.xml.rels", (
            f'{XML_HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'{rels}</Relationships>'))
        self.zip.close()


def _cell(value, style: int) -> str:
    """One <c>; cells carry no r="…", so an empty one still holds its place."""
    kind = type(value)
    if kind is str:  # the common case first: ~1 million cells a county-year
        if not value:
            return "<c/>"
        if value[0] in _FORMULA_START:
            style = QUOTED.get(style, style)
        text = _ILLEGAL.sub("", value).translate(_ESCAPE)
        if "_x" in text:
            text = _XESCAPE.sub("_x005F", text)
        return f'<c t="inlineStr"{_S[style]}><is><t xml:space="preserve">{text}</t></is></c>'
    if kind is datetime:
        return f'<c s="{DATETIME}"><v>{excel_serial(value)}</v></c>'
    if kind is date:
        return f'<c s="{DATE}"><v>{value.toordinal() - _EPOCH}</v></c>'
    if kind is int:
        return f'<c s="{COUNT}"><v>{value}</v></c>'
    if kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            return "<c/>"
        return f'<c{_S[PERCENT] if style == PERCENT else ""}><v>{value!r}</v></c>'
    if value is None:
        return "<c/>"
    return _cell(str(value), style)  # bool, Decimal, an odd subclass: as text
