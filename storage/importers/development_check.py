"""The rules of membership development (发展党员), checked where a step is
written — a roster's 发展党员 sheet (development.csv) or the chat's
`发展 姓名 阶段 日期` — so both refuse the same things with the same words:
an unknown stage, a date that is no date, a step before the one it
follows, less than a year as 积极分子 before 发展对象, 转正 before the
probation year is over, a day in the future."""
from __future__ import annotations

from datetime import date

from storage.development import STEP_FIELDS, STEP_NAMES, add_years
from storage.models import BRANCH, DEVELOPMENT_STAGES, TALK
from storage.month import OutOfRange, parse_day
from storage.importers.roster_read import Row

# Each step and the step it must follow.
AFTER = {TALK: "入党申请人", "入党积极分子": "入党申请人", "发展对象": "入党积极分子",
         "预备党员": "发展对象", "正式党员": "预备党员"}
KNOWN = "、".join((*DEVELOPMENT_STAGES, TALK))


def step_named(text: str) -> str | None:
    """The step a person wrote (入党积极分子, 积极分子, 转正 …); None if unknown."""
    return STEP_NAMES.get(text.strip())


def unknown_step(text: str) -> str:
    return f"阶段“{text}”无效，应为 {KNOWN}"


def read_day(text: str, what: str) -> date:
    """ValueError with the reason, in the words of a row problem."""
    try:
        return parse_day(text.replace("/", "-").replace(".", "-"))
    except OutOfRange:
        raise ValueError(f"{what}“{text}”的年份不合理") from None
    except ValueError:
        raise ValueError(f"{what}“{text}”无效，应为 YYYY-MM-DD") from None


def order_problem(dates: dict[str, date | None], today: date) -> str | None:
    """What is wrong with a person's step dates taken together; None if nothing."""
    for step, day in dates.items():
        if day is None:
            continue
        if day > today:
            return f"{step}日期 {day} 晚于今天"
        before = AFTER.get(step)
        if before and dates.get(before) is None:
            return f"有{step}日期（{day}），但缺少{before}日期：请先登记{before}"
        if before and day < dates[before]:
            return f"{step}日期 {day} 早于{before}日期 {dates[before]}，顺序不对"
    activist, candidate = dates.get("入党积极分子"), dates.get("发展对象")
    if activist and candidate and candidate < add_years(activist, 1):
        return (f"发展对象日期 {candidate} 距确定入党积极分子（{activist}）不满一年："
                "入党积极分子须经过一年以上培养考察")
    probation, full = dates.get("预备党员"), dates.get("正式党员")
    if probation and full and full < add_years(probation, 1):
        return f"转正日期 {full} 早于预备期满（{add_years(probation, 1)}）：预备期为一年"
    return None


def check_development(rows: list[Row], orgs: dict[str, dict], today: date,
                      problems: list[str]) -> list[dict]:
    """The people of a 发展党员 sheet: {branch_code, name, dates (step →
    date, the steps given), where}. Row problems go to `problems`; the
    rules across a person's rows are checked again against the register
    before anything is written (roster_import.py)."""
    people: dict[tuple[str, str], dict] = {}
    for row in rows:
        v = row.values
        try:
            missing = [k for k, label in (("name", "姓名"), ("branch_code", "所在支部编码"), ("stage", "阶段"),
                                          ("day", "日期")) if not v[k]]
            if missing:
                raise ValueError(f"缺少必填项 {'、'.join(missing)}")
            org = orgs.get(v["branch_code"])
            if org is None:
                raise ValueError(f"所在支部编码 {v['branch_code']} 不存在")
            if org["type"] != BRANCH:
                raise ValueError(f"{v['branch_code']} 不是党支部")
            if len(v["name"]) > 64:
                raise ValueError("姓名太长（最多64字）")
            step = step_named(v["stage"])
            if step is None:
                raise ValueError(unknown_step(v["stage"]))
            day = read_day(v["day"], "日期")
        except ValueError as e:
            problems.append(f"{row.where}：{e}")
            continue
        person = people.setdefault((v["branch_code"], v["name"]), {
            "branch_code": v["branch_code"], "name": v["name"], "dates": {}, "where": {}})
        if step in person["dates"] and person["dates"][step] != day:
            problems.append(f"{row.where}：{v['name']}的{step}日期与{person['where'][step]}不一致")
            continue
        person["dates"][step], person["where"][step] = day, row.where
    return list(people.values())


def _filled(dates: dict[str, date | None]) -> dict[str, date | None]:
    """Every step in order, None where not given."""
    return {step: dates.get(step) for step in STEP_FIELDS}


def _latest(dates: dict[str, date]) -> str:
    return [step for step in STEP_FIELDS if step in dates][-1]


def merged_problem(person: dict, existing: dict[str, date | None] | None, today: date) -> str | None:
    """The sheet's dates laid over the register's for this person: a row
    problem if the two together break the rules."""
    dates = dict(existing or {step: None for step in STEP_FIELDS})
    dates.update(person["dates"])
    bad = order_problem(_filled(dates), today)
    return f"{person['where'][_latest(person['dates'])]}：{person['name']}（{person['branch_code']}）{bad}" \
        if bad else None
