"""The streaming .xlsx writer, read back by two independent readers."""
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from bot.exports.ledger import sheet_title
from bot.exports.xlsx_stream import StreamingWorkbook


def test_cells_survive_escaping_and_read_back_in_openpyxl_and_calamine(tmp_path):
    path = tmp_path / "t.xlsx"
    book = StreamingWorkbook(path)
    rows = [("a & b <c> \"d\"", 42, None, "x\x07y", "㛃堃喆 𠮷"), ("", 3.5, "end", "", "补记录")]
    book.add_sheet("第一页 & <更多>", ("甲", "乙", "丙", "丁", "标注"), (10, 10, 10, 10, 20), rows, mark_last=True)
    book.add_sheet("空", ("只有表头",), (12,), [])
    book.close()
    wb = load_workbook(path)
    assert wb.sheetnames == ["第一页 & <更多>", "空"]
    sheet = wb["第一页 & <更多>"]
    got = list(sheet.iter_rows(values_only=True))
    assert got[0] == ("甲", "乙", "丙", "丁", "标注")
    assert got[1] == ("a & b <c> \"d\"", 42, None, "xy", "㛃堃喆 𠮷")
    assert got[2] == (None, 3.5, "end", None, "补记录")
    assert sheet.freeze_panes == "A2" and sheet.column_dimensions["E"].width == 20
    assert sheet["E3"].font.color.rgb == "FFC00000" and sheet["A1"].font.b
    calamine = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("第一页 & <更多>").to_python()
    assert calamine[1][0] == "a & b <c> \"d\"" and calamine[2][4] == "补记录"


def test_sheet_titles_are_legal_and_unique():
    used = set()
    first = sheet_title("ZB0001", "某某县某某镇某某村某某某某某某某某某某某某某某[党]支部", used)
    second = sheet_title("ZB0001", "某某县某某镇某某村某某某某某某某某某某某某某某[党]支部", used)
    assert len(first) <= 31 and "[" not in first and first != second and len(second) <= 31
