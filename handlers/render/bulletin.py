"""The monthly bulletin (通报) as people read it (pure): the markdown message
staff see and branches receive, and the titles, headers and rows of its
workbook's sheets. storage/bulletin.py gives the figures."""
from __future__ import annotations

from typing import NamedTuple, Sequence

from storage.bulletin import Bulletin, BranchScore, MissingMeeting, OverdueTask

SHOWN = 10  # branches or members listed per section in the message; the workbook has all


class Sheet(NamedTuple):
    title: str
    headers: tuple[str, ...]
    rows: list[Sequence]


def overdue_label(task: OverdueTask) -> str:
    """第2项 召开支部委员会会议"""
    return f"第{task.number}项 {task.title}"


def missing_label(meeting: MissingMeeting) -> str:
    """支委会 / 党员大会（本季度）"""
    return f"{meeting.kind}（本季度）" if meeting.quarterly else meeting.kind


def _overdue(s: BranchScore) -> str:
    return "、".join(overdue_label(t) for t in s.overdue)


def _missing(s: BranchScore) -> str:
    return "、".join(missing_label(m) for m in s.missing_meetings)


def render_bulletin(b: Bulletin, issuer: str) -> str:
    lines = [f"**{issuer}关于{b.month.label}基层党建重点工作完成情况的通报**", "",
             "**按时完成率（前{}名）**".format(min(SHOWN, len(b.branches)))]
    lines += [f"{i}. {s.branch.name}：按时完成 {s.on_time}/{s.due}" for i, s in enumerate(b.branches[:SHOWN], 1)]
    if b.committees:
        lines += ["", "**各党委（党工委）按时完成率**"]
        lines += [f"- {c.name}：{on_time}/{due}" for c, on_time, due in b.committees]
    overdue = [s for s in b.branches if s.overdue]
    lines += ["", f"**有逾期未完成任务的支部（{len(overdue)} 个）**"]
    lines += [f"- {s.branch.name}：{_overdue(s)}" for s in overdue[:SHOWN]] or ["无"]
    if len(overdue) > SHOWN:
        lines.append(f"……另有 {len(overdue) - SHOWN} 个支部，详见附表")
    missed = [s for s in b.branches if s.missing_meetings]
    lines += ["", f"**“三会一课”未达要求的支部（{len(missed)} 个）**"]
    lines += [f"- {s.branch.name}：缺{_missing(s)}" for s in missed[:SHOWN]] or ["无"]
    lines += ["", f"**本月未报到的流动党员：{len(b.not_checked_in)} 人**"]
    lines += [f"- {org.name}：{m.name}" for m, org in b.not_checked_in[:SHOWN]]
    lines += ["", f"**零积分人员（全体党员）：{len(b.zero_point)} 人，请各支部跟进联系。**"]
    return "\n".join(lines)


def bulletin_sheets(b: Bulletin) -> list[Sheet]:
    """The workbook, in sheet order: branch ranking, committee ranking,
    mobile members not checked in, zero-point members. Counts and the rate
    (a fraction, shown as a percentage by the workbook) stay numbers."""
    return [
        Sheet("支部排名", ("名次", "支部编码", "支部名称", "应完成", "按时完成", "逾期完成", "按时完成率",
                       "逾期未完成任务", "三会一课缺项"),
              [(i, s.branch.code, s.branch.name, s.due, s.on_time, s.late, s.rate,
                "；".join(overdue_label(t) for t in s.overdue), _missing(s))
               for i, s in enumerate(b.branches, 1)]),
        Sheet("党委排名", ("名次", "编码", "名称", "应完成", "按时完成"),
              [(i, c.code, c.name, due, on_time) for i, (c, on_time, due) in enumerate(b.committees, 1)]),
        Sheet("流动党员未报到", ("支部", "姓名", "流入地", "企业微信账号"),
              [(o.name, m.name, m.inflow_city or "", m.wecom_userid or "") for m, o in b.not_checked_in]),
        Sheet("零积分人员", ("支部", "姓名", "职务", "流动党员"),
              [(o.name, m.name, m.role, "是" if m.is_mobile else "") for m, o in b.zero_point]),
    ]
