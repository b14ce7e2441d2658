"""The bulletin (通报) workbook: rankings, overdue, 三会一课, mobile members,
zero-point members — one sheet each, Chinese headers, frozen header rows."""
from __future__ import annotations

from pathlib import Path

from bot.exports.xlsx_stream import StreamingWorkbook
from storage.bulletin import Bulletin


def write_bulletin(b: Bulletin, path: str | Path) -> None:
    book = StreamingWorkbook(path)
    book.add_sheet("支部排名", ("名次", "支部编码", "支部名称", "应完成", "按时完成", "逾期完成", "按时完成率",
                            "逾期未完成任务", "三会一课缺项"), (6, 10, 36, 8, 10, 10, 12, 50, 30),
                   [(i, s.branch.code, s.branch.name, s.due, s.on_time, s.late, f"{s.rate:.0%}",
                     "；".join(s.overdue), "、".join(s.missing_meetings)) for i, s in enumerate(b.branches, 1)])
    book.add_sheet("党委排名", ("名次", "编码", "名称", "应完成", "按时完成"), (6, 10, 30, 10, 10),
                   [(i, c.code, c.name, due, on_time) for i, (c, on_time, due) in enumerate(b.committees, 1)])
    book.add_sheet("流动党员未报到", ("支部", "姓名", "流入地", "企业微信账号"), (36, 12, 12, 16),
                   [(o.name, m.name, m.outflow_city or "", m.wecom_userid or "") for m, o in b.not_checked_in])
    book.add_sheet("零积分人员", ("支部", "姓名", "职务", "流动党员"), (36, 12, 10, 10),
                   [(o.name, m.name, m.role, "是" if m.is_mobile else "") for m, o in b.zero_point])
    book.close()
