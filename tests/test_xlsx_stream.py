"""The streaming .xlsx writer, read back by two independent readers
(openpyxl, python-calamine); LibreOffice opens every export in
tests/test_exports_office.py."""
import struct
import zipfile
from datetime import date, datetime

from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from bot.exports.xlsx_stream import SheetNames, StreamingWorkbook, excel_serial, utf16_len

EXPORTED_AT = datetime(2027, 3, 1, 8, 5)


def test_cells_survive_escaping_and_read_back_in_openpyxl_and_calamine(tmp_path):
    path = tmp_path / "t.xlsx"
    book = StreamingWorkbook(path, EXPORTED_AT)
    rows = [("a & b <c> \"d\" 'e'", 42, None, "x\x07y\x1b\x7f\x85", "㛃堃喆 𠮷"), ("", 3.5, "end", "", "补记录"),
            ("_x0041_ stays", "tab\tand\nline", " spaces ", "\ud800lone", "]]>")]
    assert book.add_sheet('第一页 & <更多> "引"', ("甲", "乙", "丙", "丁", "标注"), (10, 10, 10, 10, 20), rows,
                          mark_last=True) == '第一页 & <更多> "引"'
    book.add_sheet("空", ("只有表头",), (12,), [])
    book.close()
    wb = load_workbook(path)
    assert wb.sheetnames == ['第一页 & <更多> "引"', "空"]
    sheet = wb['第一页 & <更多> "引"']
    got = list(sheet.iter_rows(values_only=True))
    assert got[0] == ("甲", "乙", "丙", "丁", "标注")
    assert got[1] == ("a & b <c> \"d\" 'e'", 42, None, "xy", "㛃堃喆 𠮷")
    assert got[2] == (None, 3.5, "end", None, "补记录")
    # Excel's own escape, written for a literal _x0041_ (openpyxl leaves it as written; Excel,
    # LibreOffice and calamine read "_x0041_ stays")
    assert got[3] == ("_x005F_x0041_ stays", "tab\tand\nline", " spaces ", "lone", "]]>")
    assert sheet.freeze_panes == "A2" and sheet.column_dimensions["E"].width == 20
    assert sheet["E3"].font.color.rgb == "FFC00000" and sheet["A1"].font.b and not sheet["D2"].font.color
    calamine = CalamineWorkbook.from_path(str(path)).get_sheet_by_name('第一页 & <更多> "引"').to_python()
    assert calamine[1][0] == "a & b <c> \"d\" 'e'" and calamine[2][4] == "补记录" and calamine[3][0] == "_x0041_ stays"


def test_values_keep_their_types_and_formula_like_text_stays_text(tmp_path):
    path = tmp_path / "t.xlsx"
    book = StreamingWorkbook(path, EXPORTED_AT)
    book.add_sheet("s", ("日期", "时间", "人数", "比例", "说明", "标注"), (12,) * 6, [
        (date(2027, 3, 29), datetime(2027, 3, 29, 9, 5, 30), 7, 2 / 3, "=1+1", "+86 138"),
        (date(1900, 3, 1), datetime(2027, 1, 1), 0, 1.0, "-5", "@all"),
        (None, None, None, float("nan"), "=HYPERLINK(\"x\")", "a=b"),
    ], percent=(3,), mark_last=True)
    book.close()
    ws = load_workbook(path)["s"]
    assert ws["A2"].value == datetime(2027, 3, 29) and ws["A2"].number_format == "yyyy\\-mm\\-dd"
    assert ws["B2"].value == datetime(2027, 3, 29, 9, 5, 30) and ws["B2"].number_format == "yyyy\\-mm\\-dd\\ hh:mm"
    assert ws["C2"].value == 7 and ws["C2"].number_format == "0" and ws["C3"].value == 0
    assert abs(ws["D2"].value - 2 / 3) < 1e-12 and ws["D2"].number_format == "0%" and ws["D4"].value is None
    for ref in ("E2", "F2", "E3", "F3", "E4"):
        assert ws[ref].data_type == "s" and ws[ref].quotePrefix, ref
    assert ws["E2"].value == "=1+1" and not ws["F4"].quotePrefix and ws["F2"].font.color.rgb == "FFC00000"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert excel_serial(date(1900, 3, 1)) == 61 and excel_serial(datetime(2027, 1, 1, 12)) == 46388.5


def test_every_sheet_has_page_setup_and_the_first_is_active(tmp_path):
    path = tmp_path / "t.xlsx"
    book = StreamingWorkbook(path, EXPORTED_AT)
    for title in ("汇总", "it's", "A&B"):
        book.add_sheet(title, ("a",), (10,), [("x",)], caption=f"{title} & 全称")
    book.close()
    wb = load_workbook(path)
    assert wb.active.title == "汇总"
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
        assert ws.page_setup.fitToHeight == 0 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$1:$1"
        assert ws.oddFooter.right.text == "导出于 2027-03-01 08:05" and "&P" in ws.oddFooter.center.text
        assert ws.oddHeader.center.text == f"{ws.title} & 全称".replace("&", "&&")  # "&" doubled: not a code
    with zipfile.ZipFile(path) as z:
        workbook = z.read("xl/workbook.xml").decode()
    assert "'it''s'!$1:$1" in workbook and "'A&amp;B'!$1:$1" in workbook


def test_no_zip64_records(tmp_path):
    path = tmp_path / "t.xlsx"
    book = StreamingWorkbook(path, EXPORTED_AT)
    book.add_sheet("s", ("a",), (10,), [(str(i),) for i in range(5000)])
    book.close()
    with zipfile.ZipFile(path) as z, path.open("rb") as raw:
        for info in z.infolist():
            assert info.extra == b"" and info.create_version == 20 and info.extract_version == 20, info.filename
            raw.seek(info.header_offset)
            header = raw.read(30)
            assert struct.unpack("<H", header[4:6])[0] == 20 and struct.unpack("<H", header[28:30])[0] == 0


def test_sheet_names_follow_excel_rules():
    names = SheetNames()
    assert names.name("'撇号'") == "撇号" and names.name("''") == "Sheet"
    assert names.name("结尾撇号' ") == "结尾撇号" and names.name("a[b]:c*d?e/f\\g") == "abcdefg"
    assert names.name("Alpha") == "Alpha" and names.name("ALPHA") == "ALPHA~2" and names.name("alpha") == "alpha~3"
    assert names.name("history") == "history~2" and names.name("控制\x07字符") == "控制字符"
    assert names.name("x_x0041_y") == "x＿x0041_y"  # no escape a reader might decode
    long = "𠮷" * 20  # 40 UTF-16 units
    first, second = names.name(long), names.name(long)
    assert first == "𠮷" * 15 and utf16_len(first) == 30  # a pair is never split
    assert second == "𠮷" * 14 + "~2"
    assert names.name("甲" * 30 + "'乙") == "甲" * 30  # cut, then no trailing apostrophe
    assert names.name("Sheet") == "Sheet~2"


def test_a_thousand_names_with_one_long_prefix_are_unique_and_quick():
    names, prefix = SheetNames(), "某某省某某市某某县某某镇某某村" * 3
    made = [names.name(f"{prefix}第{i}党支部") for i in range(1500)]
    assert len({m.casefold() for m in made}) == 1500
    assert all(utf16_len(m) <= 31 and m[-1] != "'" for m in made)
    assert made[0] == prefix[:31] and made[1] == prefix[:29] + "~2" and made[1499] == prefix[:26] + "~1500"
