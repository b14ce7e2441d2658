"""Days people name in chat, resolved against today (the bot's one zone,
Asia/Shanghai: `today` comes from the clock). A small table, not jionlp:
the expressions secretaries use for a meeting they have held are few
(今天, 昨天, 前天, 上周五, 本周一, 周三, 3月5日, 3.5, 15号, 2027-03-05), and
jionlp (≈220 MB with its segmenter, 0.3 s to import) does not read "3.5".

A day is only read where it is unmistakably one: "3.5" is not a day in
"1.5小时" (a number followed by a unit), and 15号 is not one in "15号楼"."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6,
            "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_RELATIVE = {"大前天": -3, "前天": -2, "昨天": -1, "昨日": -1, "昨晚": -1, "昨儿": -1, "今天": 0, "今日": 0,
             "今早": 0, "今晚": 0, "今儿": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3}
_CN_DAY = "一二三四五六七八九十"
_EXPRESSIONS = re.compile(
    r"(?P<iso>(?P<y>20[0-9]{2})\s*[-./年]\s*(?P<ym>[0-9]{1,2})\s*[-./月]\s*(?P<yd>[0-9]{1,2})\s*[日号]?)"
    r"|(?P<md>(?P<m>[0-9]{1,2})\s*月\s*(?P<d>[0-9]{1,2})\s*[日号]?)"
    r"|(?P<dot>(?<![0-9.])(?P<dm>[0-9]{1,2})\.(?P<dd>[0-9]{1,2})(?![0-9.]|\s*(?:个|小时|h|元|万|人|分|米|公里|天)))"
    r"|(?P<rel>大前天|前天|昨天|昨日|昨晚|昨儿|今天|今日|今早|今晚|今儿|大后天|明天|明日|后天)"
    r"|(?P<week>(?P<which>上上|上|这|本|下)?\s*(?:个)?\s*(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7]))"
    r"|(?P<num>(?<![0-9])(?P<n>[0-9]{1,2})\s*[日号](?![楼院室栋单]))")


@dataclass(frozen=True)
class Day:
    day: date
    start: int   # where the expression is in the text
    end: int
    said: str    # as written


def find_day(text: str, today: date) -> Day | None:
    """The first day named in `text` (half-width), or None. A day that
    does not exist (2月30日) is not a day."""
    for match in _EXPRESSIONS.finditer(text):
        found = _resolve(match, today)
        if found is not None:
            return Day(found, match.start(), match.end(), match.group(0))
    return None


def _resolve(match: re.Match, today: date) -> date | None:
    try:
        if match.group("iso"):
            return date(int(match.group("y")), int(match.group("ym")), int(match.group("yd")))
        if match.group("md"):
            return _this_year(int(match.group("m")), int(match.group("d")), today)
        if match.group("dot"):
            return _this_year(int(match.group("dm")), int(match.group("dd")), today)
    except ValueError:
        return None
    if match.group("rel"):
        return today + timedelta(days=_RELATIVE[match.group("rel")])
    if match.group("week"):
        return _weekday(match.group("which") or "", _WEEKDAY[match.group("wd")], today)
    if match.group("num"):
        try:
            return today.replace(day=int(match.group("n")))
        except ValueError:
            return None
    return None


def _this_year(month: int, day: int, today: date) -> date:
    """3月5日 is this year's; said in January of last December's, a day
    more than a month ahead is last year's (a meeting held, not planned)."""
    found = date(today.year, month, day)
    if found - today > timedelta(days=31):
        found = date(today.year - 1, month, day)
    return found


def _weekday(which: str, weekday: int, today: date) -> date:
    """上周五, 本周一, 这周三, 下周二; a bare 周五 is the latest Friday up to
    today (people name a bare weekday for what they have done)."""
    monday = today - timedelta(days=today.weekday())
    weeks = {"上上": -2, "上": -1, "这": 0, "本": 0, "下": 1}[which] if which else 0
    found = monday + timedelta(weeks=weeks, days=weekday)
    return found - timedelta(weeks=1) if not which and found > today else found
