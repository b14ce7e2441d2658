"""Reading a yearly plan (YAML, see examples/plan-2027.yaml) into task specs:
one per month for each one-off task, and recurring duties expanded into the
months they fall in. Pure apart from the holiday calendar; errors name the
line."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml

from storage.models import CATEGORIES, CHECKIN_DUTY, DUTIES, Task
from storage.month import FIRST_YEAR, LAST_YEAR, OutOfRange, check_year
from storage.workdays import last_workday

QUARTER_FIRST_MONTHS = (1, 4, 7, 10)
THEME_DAY_DUTY = "主题党日"
THEME_CHARS = Task.theme.type.length
# A recurring duty states what fulfils it (`kind: 支委会`, `kind: 签到`); a
# plan written before `kind` existed gets it for the standard duties' titles.
KIND_ALIASES = {"签到": CHECKIN_DUTY, "报到": CHECKIN_DUTY}
STANDARD_DUTIES = {"召开支部委员会会议": "支委会", "召开党小组会": "党小组会", "开展主题党日活动": "主题党日",
                   "召开支部党员大会": "党员大会", "书记讲党课": "党课", "流动党员每月报到": CHECKIN_DUTY}


class PlanError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class TaskSpec:
    natural_key: str
    month: str  # YYYY-MM
    title: str
    deadline: date
    target_kind: str
    target_values: tuple[str, ...]
    evidence: str | None
    note: str | None
    recurring: bool
    duty: str | None = None  # a meeting kind or CHECKIN_DUTY (storage.models.Task.duty)
    theme: str | None = None     # 主题党日: the month's theme (`themes:`), pushed to mobile members
    held_on: date | None = None  # 主题党日: the day it is held (`day:`, or a month's own `day`)


@dataclass(frozen=True)
class PlanSpec:
    year: int
    issuer: str
    tasks: list[TaskSpec]


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers each mapping's line as `__line__`."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    # each key's own line, so an error inside a list such as `themes:` names its row
    mapping["__lines__"] = {loader.construct_object(k, deep=True): k.start_mark.line + 1 for k, _ in node.value}
    return mapping


class _AtLine(ValueError):
    """A problem on a line other than its item's first."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


def _meta(key: Any) -> bool:
    return key in ("__line__", "__lines__")


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_plan(text: str, source: str, branch_codes: set[str] | None = None) -> PlanSpec:
    try:
        doc = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as e:
        line = getattr(getattr(e, "problem_mark", None), "line", -1) + 1
        raise PlanError([f"{source} 第 {line} 行：YAML 格式错误"]) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("year"), int):
        raise PlanError([f"{source}：缺少 year（年份），如 year: 2027"])
    try:
        check_year(doc["year"])  # the one range every month and date of 支部通 lies in
    except OutOfRange:
        raise PlanError([f"{source}：year（年份）{doc['year']} 不合理，应在 {FIRST_YEAR}–{LAST_YEAR} 之间"]) from None
    problems: list[str] = []
    year, tasks = doc["year"], []
    months = doc.get("months") or {}
    listed = [m for m in months if isinstance(m, int) and 1 <= m <= 12]
    # A plan covers its year from its first listed month on (plan-2026 starts
    # in November): recurring duties are not invented for months before it.
    first = min(listed, default=1)
    for item in doc.get("recurring") or []:
        tasks += _guard(problems, source, item, lambda: _recurring(item, year, first, branch_codes))
    for month, items in months.items():
        if _meta(month):
            continue
        if not (isinstance(month, int) and 1 <= month <= 12):
            problems.append(f"{source} 第 {months['__lines__'].get(month, months['__line__'])} 行：月份“{month}”应为 1–12")
            continue
        for item in items or []:
            tasks += _guard(problems, source, item, lambda: [_one_off(item, year, month, branch_codes)])
    if problems:
        raise PlanError(problems)
    one_offs = [t for t in tasks if not t.recurring]
    recurring = [t for t in tasks if t.recurring]
    ordered = sorted(one_offs, key=lambda t: t.month) + sorted(recurring, key=lambda t: t.month)
    return PlanSpec(year, str(doc.get("issuer") or "组织部"), ordered)


def _guard(problems: list[str], source: str, item: Any, build) -> list[TaskSpec]:
    if not isinstance(item, dict):
        problems.append(f"{source}：“{item}”应为一项任务（含 title 等）")
        return []
    try:
        return build()
    except ValueError as e:
        problems.append(f"{source} 第 {getattr(e, 'line', None) or item['__line__']} 行：{e}")
        return []


def _title(item: dict) -> str:
    title = str(item.get("title") or "").strip()
    if not title:
        raise ValueError("缺少 title（任务名称）")
    if len(title) > Task.title.type.length:
        raise ValueError(f"title（任务名称）太长（{len(title)}字），最多{Task.title.type.length}字")
    return title


def _one_off(item: dict, year: int, month: int, codes: set[str] | None) -> TaskSpec:
    title = _title(item)
    deadline = item.get("deadline") or last_workday(year, month)
    if not isinstance(deadline, date):
        raise ValueError(f"截止日期“{deadline}”无效，应为 YYYY-MM-DD")
    if deadline < date(year, month, 1):
        raise ValueError(f"截止日期 {deadline} 早于 {year} 年 {month} 月")
    if deadline.year > LAST_YEAR:
        raise ValueError(f"截止日期 {deadline} 不合理，应在 {LAST_YEAR} 年以前")
    kind, values = parse_targets(item.get("targets", "all"), codes)
    return TaskSpec(f"plan:{year}-{month:02d}:{title}", f"{year}-{month:02d}", title,
                    deadline, kind, values, _text(item, "evidence"), _text(item, "note"), False)


def _recurring(item: dict, year: int, first: int, codes: set[str] | None) -> list[TaskSpec]:
    title, every = _title(item), item.get("every")
    if every not in ("month", "quarter"):
        raise ValueError(f"every“{every}”无效，应为 month（每月）或 quarter（每季度）")
    kind, values = parse_targets(item.get("targets", "all"), codes)
    if every == "month":
        due = [(m, m) for m in range(first, 13)]
    else:  # in the quarter's first covered month, due by the quarter's end
        due = [(max(q, first), q + 2) for q in QUARTER_FIRST_MONTHS if q + 2 >= first]
    label = "每月" if every == "month" else "每季度"
    duty = _duty(item, title)
    themes = _themes(item, year, duty, every)
    return [TaskSpec(f"plan:{year}-{m:02d}:{label}:{title}", f"{year}-{m:02d}", title,
                     last_workday(year, end), kind, values, _text(item, "evidence"),
                     _text(item, "note"), True, duty, *themes.get(m, (None, None)))
            for m, end in due]


def _themes(item: dict, year: int, duty: str | None, every: str) -> dict[int, tuple[str | None, date | None]]:
    """主题党日 only: `day:` (the day of each month it is held) and `themes:`
    (month → its theme, or month → {theme:, day:} for a month held on
    another day). Month → (theme, day held); a month not listed keeps the
    duty's title as its theme, and `day:` (or, without it, the deadline)."""
    day, themes = item.get("day"), item.get("themes")
    if day is None and themes is None:
        return {}
    if duty != THEME_DAY_DUTY or every != "month":
        raise ValueError("day（活动日）和 themes（各月主题）只用于每月的主题党日（kind: 主题党日，every: month）")
    lines = item.get("__lines__", {})
    try:
        _day_of_month(day, year, 1, "day（主题党日日期）")  # checked even when every month names its own
    except ValueError as e:
        raise _AtLine(str(e), lines.get("day")) from None
    if themes is None:
        themes = {}
    if not isinstance(themes, dict):
        raise _AtLine("themes（各月主题）应按月份列出，如：themes: {3: 学雷锋志愿服务}", lines.get("themes"))
    found = {}
    for month, value in themes.items():
        if _meta(month):
            continue
        line = themes["__lines__"].get(month)
        if not (isinstance(month, int) and 1 <= month <= 12):
            raise _AtLine(f"themes（各月主题）中的月份“{month}”应为 1–12", line)
        own_day = day
        if isinstance(value, dict):
            own_day = value.get("day", day)
            value = value.get("theme")
        theme = str(value or "").strip()
        if not theme:
            raise _AtLine(f"themes（各月主题）中 {month} 月的主题为空", line)
        if len(theme) > THEME_CHARS:
            raise _AtLine(f"themes（各月主题）中 {month} 月的主题太长（{len(theme)}字），最多{THEME_CHARS}字", line)
        try:
            found[month] = (theme, _day_of_month(own_day, year, month, f"{month} 月的 day（主题党日日期）"))
        except ValueError as e:
            raise _AtLine(str(e), line) from None
    if day is not None:
        for month in range(1, 13):
            found.setdefault(month, (None, _day_of_month(day, year, month, "day（主题党日日期）")))
    return found


def _day_of_month(day: Any, year: int, month: int, what: str) -> date | None:
    """Day N of the month (31 in a shorter month: its last day); None if not given."""
    if day is None:
        return None
    if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 31:
        raise ValueError(f"{what}“{day}”无效，应为每月几号（1–31 的整数），如 day: 15")
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _duty(item: dict, title: str) -> str | None:
    """What fulfils a recurring duty: `kind:` (a meeting type, or 签到)."""
    raw = item.get("kind")
    if raw is None:
        return STANDARD_DUTIES.get(title)
    kind = KIND_ALIASES.get(str(raw).strip(), str(raw).strip())
    if kind not in DUTIES:
        raise ValueError(f"kind“{raw}”无效，应为会议类型（{'、'.join(DUTIES[:-1])}）或 签到")
    return kind


def _text(item: dict, key: str) -> str | None:
    value = item.get(key)
    return str(value).strip() if value else None


def parse_targets(raw: Any, codes: set[str] | None = None) -> tuple[str, tuple[str, ...]]:
    """'all' / 全部, a list of 领域, or a list of branch codes (not mixed)."""
    if raw in ("all", "全部", None):
        return "all", ()
    values = raw if isinstance(raw, list) else str(raw).replace("，", ",").split(",")
    values = tuple(str(v).strip() for v in values if str(v).strip())
    if values and all(v in CATEGORIES for v in values):
        return "categories", values
    if values and not any(v in CATEGORIES for v in values):
        unknown = [v for v in values if codes is not None and v not in codes]
        if unknown:
            raise ValueError(f"对象中的支部编码 {'、'.join(unknown)} 不存在")
        return "codes", values
    raise ValueError(f"对象“{'、'.join(values) or raw}”应为 全部、领域列表（如 农村,社区）"
                     "或支部编码列表，不能混用")
