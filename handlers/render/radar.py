"""锋领考评 (the quarter's radar) as people read it (pure): the workbook's
sheet and its notes (the rule of each dimension, from the config), the
labels of the chart, and each branch's 公示. storage/radar.py gives the
figures. Members are listed in roster order, never ranked (基层减负)."""
from __future__ import annotations

from itertools import groupby
from typing import Sequence

from handlers.render.bulletin import Sheet
from storage.importers.appraisals import ID, NAME, PERFORMANCE, SATISFACTION, SHEET
from storage.month import Quarter
from storage.radar import PERFORMANCE_CATEGORIES, RadarRules, Score

DIMENSION_LABELS = ("三会一课", "理论学习", "主题党日", "志愿服务", SATISFACTION, PERFORMANCE)
# The chart's axes where no CJK font is installed: readable, never boxes.
PLAIN_LABELS = ("Meetings", "Study", "Theme day", "Volunteer", "Satisfaction", "Performance")
HEADERS = ("支部代码", "支部名称", "支部类别", ID, NAME, *DIMENSION_LABELS,
           "会议出席/应到", "学习天数", "主题党日出席/应到", "远程参加主题党日", "志愿服务小时")
WIDTHS = (12, 30, 10, 10, 10, 10, 10, 10, 10, 10, 10, 14, 10, 16, 16, 14)


def _cell(value: int | None) -> int | str:
    return "" if value is None else value


def rows(scores: Sequence[Score]) -> list[tuple]:
    return [(s.branch_code, s.branch_name, s.category or "", s.member_id, s.name, *map(_cell, s.scores),
             f"{s.stats.attended}/{s.stats.held}", s.stats.study_days,
             f"{s.stats.theme_attended}/{s.stats.theme_held}", s.stats.theme_remote,
             round(s.stats.volunteer_hours, 1)) for s in scores]


def notes(quarter: Quarter, rules: RadarRules) -> list[tuple[str, str]]:
    """(dimension, rule) — the notes sheet, from the rules in force."""
    first, _, last = quarter.months
    period = f"{quarter.label}（{first.label}至{last.label}）"
    none = f"本季度名册上没有这类会议的，记 {rules.no_meeting} 分"
    return [
        ("考评期间", period),
        ("计分", "每个维度 0–100 分，四舍五入取整；不汇总、不排名，只用于了解每名党员的参与情况"),
        ("三会一课", f"出席率：出席次数 ÷ 应到次数 × 100（党员大会、支委会、党小组会、党课、组织生活会、"
                     f"民主评议等按名册记录的会议，主题党日另计）；请假、缺席都不算出席；{none}"),
        ("理论学习", f"本季度登记学习（学习 …）的天数 ÷ {rules.study_days} × 100，"
                     f"满 {rules.study_days} 天记 100 分"),
        ("主题党日", f"出席率：出席次数 ÷ 应到次数 × 100；流动党员收到当月主题后回复“学习”或“签到”的，"
                     f"记为远程参加，按出席计（不超过应到次数）；{none}"),
        ("志愿服务", f"本季度志愿服务小时数 ÷ {rules.volunteer_hours} × 100，满 {rules.volunteer_hours} 小时"
                     "记 100 分"),
        (SATISFACTION, f"由组织部门录入（python -m bot import-appraisals 文件 --quarter {quarter}，"
                       f"在本表“{SATISFACTION}”列填写 0–100 的整数）；未录入的留空"),
        (PERFORMANCE, f"仅{'、'.join(PERFORMANCE_CATEGORIES)}支部考评，由组织部门录入（同上，“{PERFORMANCE}”列）；"
                      "其他支部留空"),
        ("数据来源", "会议按名册记录的出席情况、学习登记、志愿服务登记、签到；与谁录入无关"),
    ]


def sheets(quarter: Quarter, scores: Sequence[Score], rules: RadarRules) -> list[Sheet]:
    return [Sheet(SHEET, HEADERS, rows(scores)), Sheet("说明", ("项目", "规则"), notes(quarter, rules))]


def dimensions(score: Score) -> tuple[int, ...]:
    """How many axes a member's chart has: six for 国企 and 非公企业 branches."""
    return tuple(range(6 if score.has_performance else 5))


def chart_title(score: Score, quarter: Quarter, cjk: bool) -> str:
    if cjk:
        return f"{score.name}（{score.branch_name}）{quarter.label}锋领考评"
    return f"{score.branch_code} #{score.member_id} {quarter}"


def chart_labels(score: Score, cjk: bool) -> list[str]:
    names = DIMENSION_LABELS if cjk else PLAIN_LABELS
    return [f"{names[i]}\n{'—' if score.scores[i] is None else score.scores[i]}" for i in dimensions(score)]


def _line(score: Score) -> str:
    parts = [f"{DIMENSION_LABELS[i]} {'未录入' if score.scores[i] is None else score.scores[i]}"
             for i in dimensions(score)]
    return f"- **{score.name}**：{' · '.join(parts)}"


def notice(quarter: Quarter, branch_name: str, scores: Sequence[Score], rules: RadarRules) -> str:
    """A branch's 公示: every member's scores, in roster order, and the rules."""
    lines = [f"**{branch_name}{quarter.label}锋领考评公示**", "",
             f"共 {len(scores)} 名党员，各维度满分 100 分（不汇总、不排名）：", ""]
    lines += [_line(s) for s in scores]
    lines += ["", "**计分规则**"]
    lines += [f"- {what}：{rule}" for what, rule in notes(quarter, rules)[2:8]]
    lines += ["", "如有异议，请在公示期内向支部书记或上级党组织反映。"]
    return "\n".join(lines)


def notices(quarter: Quarter, scores: Sequence[Score], rules: RadarRules) -> dict[str, tuple[str, str]]:
    """branch code → (branch name, 公示) for every branch in `scores`."""
    return {code: (group[0].branch_name, notice(quarter, group[0].branch_name, group, rules))
            for code, group in ((c, list(g)) for c, g in groupby(scores, key=lambda s: s.branch_code))}
