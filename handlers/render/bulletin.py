"""The bulletin (通报) of a month, a quarter or a year as people read it (pure): the markdown message
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
    """第2项 召开支部委员会会议; 3月第2项 … in a quarter's or a year's bulletin"""
    label = task.month.item_label(task.number) if task.month else f"第{task.number}项"
    return f"{label} {task.title}"


def missing_label(meeting: MissingMeeting, single_month: bool = True) -> str:
    """支委会 / 党员大会（本季度）; 支委会（2个月） / 党课（1个季度） over a longer period"""
    if single_month:
        return f"{meeting.kind}（本季度）" if meeting.quarterly else meeting.kind
    return f"{meeting.kind}（{meeting.times}个{'季度' if meeting.quarterly else '月'}）"


def _overdue(s: BranchScore) -> str:
    return "、".join(overdue_label(t) for t in s.overdue)


def _missing(s: BranchScore, single_month: bool = True) -> str:
    return "、".join(missing_label(m, single_month) for m in s.missing_meetings)


def last_joined(day) -> str:
    return f"最近一次 {day}" if day else "无入党日期记录"


def render_bulletin(b: Bulletin, issuer: str) -> str:
    lines = [f"**{issuer}关于{b.period.label}基层党建重点工作完成情况的通报**", "",
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
    lines += [f"- {s.branch.name}：缺{_missing(s, b.single_month)}" for s in missed[:SHOWN]] or ["无"]
    if b.single_month:
        lines += ["", f"**本月未报到的流动党员：{len(b.not_checked_in)} 人**"]
        lines += [f"- {org.name}：{m.name}" for m, org in b.not_checked_in[:SHOWN]]
    else:
        lines += ["", f"**有月份未报到的流动党员：{len(b.not_checked_in)} 人**"]
        lines += [f"- {org.name}：{m.name}（{b.months_missed.get(m.id, 0)}个月未报到）"
                  for m, org in b.not_checked_in[:SHOWN]]
    lines += _register_lines(b)
    lines += ["", f"**零积分人员（全体党员）：{len(b.zero_point)} 人，请各支部跟进联系。**"]
    return "\n".join(lines)


def _register_lines(b: Bulletin) -> list[str]:
    """The org department's registers: states, never activity counts."""
    lines = ["", f"**3年以上未发展党员的支部（{len(b.no_new_member)} 个）**"]
    lines += [f"- {org.name}（{last_joined(day)}）" for org, day in b.no_new_member[:SHOWN]] or ["无"]
    if len(b.no_new_member) > SHOWN:
        lines.append(f"……另有 {len(b.no_new_member) - SHOWN} 个支部，详见附表")
    if b.rectifying:
        lines += ["", f"**软弱涣散党组织整顿中（{len(b.rectifying)} 个）**"]
        lines += [f"- {org.name}：{flag.reason}" for org, flag in b.rectifying[:SHOWN]]
    if b.overdue_terms:
        lines += ["", f"**任期已届满、尚未换届（{len(b.overdue_terms)} 个）**"]
        lines += [f"- {org.name}（届满 {org.term_end}）" for org in b.overdue_terms[:SHOWN]]
    if b.vacant:
        lines += ["", f"**书记空缺的支部（{len(b.vacant)} 个）**"]
        lines += [f"- {org.name}" for org in b.vacant[:SHOWN]]
    return lines


def bulletin_sheets(b: Bulletin) -> list[Sheet]:
    """The workbook, in sheet order: branch ranking, committee ranking,
    mobile members not checked in, zero-point members. Counts and the rate
    (a fraction, shown as a percentage by the workbook) stay numbers."""
    return [
        Sheet("支部排名", ("名次", "支部编码", "支部名称", "应完成", "按时完成", "逾期完成", "按时完成率",
                       "逾期未完成任务", "三会一课缺项"),
              [(i, s.branch.code, s.branch.name, s.due, s.on_time, s.late, s.rate,
                "；".join(overdue_label(t) for t in s.overdue), _missing(s, b.single_month))
               for i, s in enumerate(b.branches, 1)]),
        Sheet("党委排名", ("名次", "编码", "名称", "应完成", "按时完成"),
              [(i, c.code, c.name, due, on_time) for i, (c, on_time, due) in enumerate(b.committees, 1)]),
        Sheet("流动党员未报到", ("支部", "姓名", "流入地", "企业微信账号"),
              [(o.name, m.name, m.inflow_city or "", m.wecom_userid or "") for m, o in b.not_checked_in]),
        Sheet("零积分人员", ("支部", "姓名", "职务", "流动党员"),
              [(o.name, m.name, m.role, "是" if m.is_mobile else "") for m, o in b.zero_point]),
        Sheet("党建台账事项", ("事项", "支部编码", "支部名称", "情况"),
              [("3年以上未发展党员", o.code, o.name, last_joined(day)) for o, day in b.no_new_member]
              + [("软弱涣散整顿中", o.code, o.name, f"{flag.flagged_at:%Y-%m-%d} 列入：{flag.reason}")
                 for o, flag in b.rectifying]
              + [("任期届满未换届", o.code, o.name, f"届满 {o.term_end}") for o in b.overdue_terms]
              + [("书记空缺", o.code, o.name, "") for o in b.vacant]),
    ]
