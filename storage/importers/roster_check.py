"""Checking roster rows: every bad row is named with its file, sheet, row and
reason, and the whole roster is refused if any row is bad (pure)."""
from __future__ import annotations

import re
from datetime import date

from storage.models import (BRANCH, CATEGORIES, ORG_DEPARTMENT, ORG_TYPES, ROLES, STATUSES, Address,
                            Member, Organization)
from storage.month import FIRST_YEAR, LAST_YEAR
from storage.importers.roster_read import MEMBER_COLUMNS, ORG_COLUMNS, RosterError, RosterRows, Row

YES, NO = ("是", "y", "yes", "true", "1"), ("", "否", "n", "no", "false", "0")
MAX_SHOWN = 50
FOUNDED = date(1921, 7, 1)  # no one joined the Party earlier: an earlier 入党日期 is a typo
# NUL, line breaks, tabs and the other C0/C1 controls: never part of a name or
# a code, and a NUL stored in a name breaks exports and PostgreSQL alike.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Longest value a column can hold: the database's own column sizes, so a
# roster is refused by row instead of failing half-way on PostgreSQL.
ORG_LENGTHS = {key: column.type.length for key, column in {
    "code": Organization.code, "name": Organization.name, "parent_code": Organization.code,
    "robot_key": Address.value, "chat_id": Address.value}.items()}
MEMBER_LENGTHS = {key: column.type.length for key, column in {
    "name": Member.name, "wecom_userid": Member.wecom_userid, "mobile": Member.phone,
    "branch_code": Organization.code, "outflow_city": Member.inflow_city}.items()}


def _has_controls(rows: list[Row]) -> bool:
    """One search over a whole table, so 100,000 clean rows cost milliseconds."""
    return bool(_CONTROL.search("".join(text for row in rows for text in row.values.values())))


def _unfit(v: dict[str, str], headers: dict[str, str], lengths: dict[str, int],
           controls: bool = True) -> str | None:
    """A value that cannot be stored as written: control characters (looked
    for only if the table has some), or too long for its column."""
    key = next((k for k, text in v.items() if _CONTROL.search(text)), None) if controls else None
    if key:
        return f"{headers[key]}（{key}）含有不可见的控制字符（如 NUL、换行），请删除后再导入"
    for key, limit in lengths.items():
        if len(v[key]) > limit:
            return f"{headers[key]}（{key}）太长（{len(v[key])}字），最多{limit}字"
    return None


def check_roster(rows: RosterRows, today: date | None = None
                 ) -> tuple[list[dict], list[dict], list[dict] | None]:
    """Valid org, member and development records (None: no 发展党员 sheet),
    or RosterError with every problem."""
    from storage.importers.development_check import check_development
    problems: list[str] = []
    orgs = _check_orgs(rows.orgs, problems)
    members = _check_members(rows.members, orgs, problems)
    development = None
    if rows.development is not None:
        development = check_development(rows.development, orgs, today or date(LAST_YEAR, 12, 31), problems)
    raise_problems(problems)
    return list(orgs.values()), members, development


def raise_problems(problems: list[str]) -> None:
    """RosterError with the first MAX_SHOWN problems, if there are any."""
    if problems:
        shown = problems[:MAX_SHOWN]
        if len(problems) > MAX_SHOWN:
            shown.append(f"……另有 {len(problems) - MAX_SHOWN} 处问题未列出")
        raise RosterError(shown)


def _check_orgs(rows: list[Row], problems: list[str]) -> dict[str, dict]:
    orgs: dict[str, dict] = {}
    where: dict[str, str] = {}
    controls = _has_controls(rows)
    for row in rows:
        v = row.values
        code, kind = v["code"], v["type"]
        bad = (_unfit(v, ORG_COLUMNS, ORG_LENGTHS, controls)
               or _need(v, ("code", "name", "type"))
               or (kind not in ORG_TYPES and f"组织类别“{kind}”无效，应为 {'/'.join(ORG_TYPES)}")
               or (code in orgs and f"组织编码 {code} 重复（{where.get(code)} 已有）")
               or (kind == BRANCH and v["category"] not in CATEGORIES
                   and f"领域“{v['category']}”无效，应为 {'/'.join(CATEGORIES)}")
               or (kind != ORG_DEPARTMENT and not v["parent_code"] and "缺少上级组织编码")
               or _term_problem(v))
        if bad:
            problems.append(f"{row.where}：{bad}")
            continue
        where[code] = row.where
        orgs[code] = {"code": code, "name": v["name"], "type": kind,
                      "parent_code": v["parent_code"] or None,
                      "category": v["category"] or None,
                      "robot_key": v["robot_key"] or None, "chat_id": v["chat_id"] or None,
                      "term_start": _day(v["term_start"]), "term_end": _day(v["term_end"])}
    for code, org in orgs.items():
        parent = org["parent_code"]
        if parent and parent not in orgs:
            problems.append(f"{where[code]}：上级组织编码 {parent} 不存在")
        elif parent and orgs[parent]["type"] == BRANCH:
            problems.append(f"{where[code]}：上级组织 {parent} 是党支部，不能再有下级")
    for code in _cycle_members(orgs):
        problems.append(f"{where[code]}：组织 {code} 的上下级关系成环")
    return orgs


def _day(text: str) -> date | None:
    """A term date already checked by _term_problem."""
    return date.fromisoformat(text.replace("/", "-").replace(".", "-")) if text else None


def _term_problem(v: dict[str, str]) -> str | None:
    """换届时间 / 届满时间: real dates, the end after the start."""
    days = {}
    for key in ("term_start", "term_end"):
        if not v[key]:
            continue
        try:
            days[key] = _day(v[key])
        except ValueError:
            return f"{ORG_COLUMNS[key]}“{v[key]}”无效，应为 YYYY-MM-DD"
        if not date(FIRST_YEAR, 1, 1) <= days[key] <= date(LAST_YEAR, 12, 31):
            return f"{ORG_COLUMNS[key]}“{v[key]}”不合理"
    if len(days) == 2 and days["term_end"] <= days["term_start"]:
        return f"届满时间 {days['term_end']} 早于换届时间 {days['term_start']}（应在换届之后）"
    if "term_end" in days and "term_start" not in days:
        return "填了届满时间，缺少换届时间"
    return None


def _cycle_members(orgs: dict[str, dict]) -> list[str]:
    """Codes that sit on a cycle of parent links."""
    on_cycle: set[str] = set()
    for start in orgs:
        seen: list[str] = []
        code: str | None = start
        while code and code in orgs and code not in seen:
            seen.append(code)
            code = orgs[code]["parent_code"]
        if code in seen:
            on_cycle.update(seen[seen.index(code):])
    return sorted(on_cycle)


def _check_members(rows: list[Row], orgs: dict[str, dict],
                   problems: list[str]) -> list[dict]:
    members: list[dict] = []
    first_seen: dict[str, Row] = {}
    controls = _has_controls(rows)
    for row in rows:
        v = row.values
        try:
            record = _member(v, orgs, controls)
        except ValueError as e:
            problems.append(f"{row.where}：{e}")
            continue
        key = record["roster_key"]
        if key in first_seen:
            problems.append(f"{row.where}：{_describe(key)} 重复（{first_seen[key].where} 已有）")
            continue
        first_seen[key] = row
        members.append(record)
    return members


def _member(v: dict[str, str], orgs: dict[str, dict], controls: bool = True) -> dict:
    missing = _unfit(v, MEMBER_COLUMNS, MEMBER_LENGTHS, controls) or _need(v, ("name", "branch_code", "role", "status"))
    if missing:
        raise ValueError(missing)
    if v["branch_code"] not in orgs:
        raise ValueError(f"所在支部编码 {v['branch_code']} 不存在")
    if v["role"] not in ROLES:
        raise ValueError(f"职务“{v['role']}”无效，应为 {'/'.join(ROLES)}")
    if v["status"] not in STATUSES:
        raise ValueError(f"党员类别“{v['status']}”无效，应为 {'/'.join(STATUSES)}")
    return {"name": v["name"], "roster_key": roster_key(v),
            "wecom_userid": v["wecom_userid"] or None,
            "phone": v["mobile"] or None, "branch_code": v["branch_code"],
            "role": v["role"], "status": v["status"],
            "is_mobile": _flag(v["mobile_member"], "流动党员"),
            "inflow_city": v["outflow_city"] or None,
            "retired": _flag(v["retired"], "离退休"),
            "joined_on": _date(v["joined_on"])}


def roster_key(v: dict[str, str]) -> str:
    if v["wecom_userid"]:
        return f"wx:{v['wecom_userid']}"
    if v["mobile"]:
        return f"tel:{v['mobile']}"
    return f"name:{v['branch_code']}:{v['name']}"


def _describe(key: str) -> str:
    kind, _, value = key.partition(":")
    return {"wx": f"企业微信账号 {value}", "tel": f"手机号 {value}（无企业微信账号）"}.get(
        kind, f"同一支部的同名党员 {value.split(':')[-1]}（无账号、无手机号）")


def _need(v: dict[str, str], keys: tuple[str, ...]) -> str | None:
    empty = [k for k in keys if not v[k]]
    return f"缺少必填项 {'、'.join(empty)}" if empty else None


def _flag(text: str, column: str) -> bool:
    if text.lower() in YES:
        return True
    if text.lower() in NO:
        return False
    raise ValueError(f"{column}“{text}”无效，应填“是”或留空")


def _date(text: str) -> date | None:
    if not text:
        return None
    try:
        joined = date.fromisoformat(text.replace("/", "-").replace(".", "-"))
    except ValueError:
        raise ValueError(f"入党日期“{text}”无效，应为 YYYY-MM-DD") from None
    if not FOUNDED <= joined <= date(LAST_YEAR, 12, 31):
        raise ValueError(f"入党日期“{text}”不合理，应在 {FOUNDED.year} 年以后")
    return joined
