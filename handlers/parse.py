"""Chat text → Command. Pure and tolerant: full-width characters, `完成：3`,
`完成3`, `完成 第三项` (Chinese numerals), extra spaces, trailing
punctuation and an @-mention prefix all parse the same.

Tolerant, but exact ("a written command is acted on only as written"): a
task reference is read whole or not at all. `完成 1,2`, `完成 第一千项`,
`完成 0月第1项` or `完成 1.5` never act on task 1 — the Command carries no
number and a `problem` the commands that need one show the user.

Parsing reads a half-width copy of the text, mapped one character to one
character, so the note the user wrote is cut from the original and keeps
its own punctuation (“已排查，无问题” stays as typed). Every pattern here is
linear in the text's length (no nested quantifiers, no search that restarts
at each position), so a long message costs microseconds, not minutes.

The command words are the registry's spellings (handlers/registry.py),
read at the first parse: the command modules that declare them import this
one, so the table cannot be read at import time."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Sequence

from handlers.context import CommandError
from handlers.registry import REGISTRY
from storage.month import FIRST_YEAR, LAST_YEAR, Month, OutOfRange, parse_day

MAX_ITEM = 999  # task numbers in one month: far beyond any plan, so a larger one is a typo
_MENTION = re.compile(r"^(@\S+\s*)+")
_SPACES = "".join(c for c in map(chr, range(0x3001)) if c.isspace())  # what `\s` meant
_TRAILING = _SPACES + "。.!！?？~～、,;；"  # stripped with str.rstrip: linear, unlike a `…+$` search
_SEPARATORS = ":：,，、;；"
_LIST_MARKS = ",，、;；"                          # between two numbers they make a list: 1,2
_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
             "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_NUM = rf"[0-9]+|[{''.join(_CN_DIGIT)}{''.join(_CN_UNIT)}万亿]+"
_REF = re.compile(rf"第?(?:(?P<month>{_NUM})月第?)?(?P<number>{_NUM})(?P<unit>[项条个])?")
_DASH_REF = re.compile(r"(?P<month>[0-9]+)-(?P<number>[0-9]+)")   # 10-2: October's task 2
_LOOKS_LIKE_REF = re.compile(rf"第|{_NUM}")
_NUMBER_LIST = re.compile(rf"(?:[和及与]\s*)?第?(?:{_NUM})[项条个]?"
                          rf"(?:[\s{_LIST_MARKS}和及与]+第?(?:{_NUM})[项条个]?)*[\s{_LIST_MARKS}]*")
TOO_BIG = 10 ** 9  # the value of any numeral longer than a task number can be


@dataclass(frozen=True)
class Command:
    name: str            # a registered command's name, or "unknown"
    rest: str = ""       # what follows the command word, as written
    number: int | None = None
    month: int | None = None   # for `完成 10月第2项`: an earlier month's task
    note: str = ""       # what follows the number, as written
    ref: str = ""        # the task reference as written ("第三项", "10-2"): rest = ref + separator + note
    problem: str = ""    # a reference written but not readable exactly: why (for the user)


_HALF_WIDTH = {0x3000: " ", **{c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}}


def half_width(text: str) -> str:
    """The same text, full-width letters, digits and punctuation made
    half-width — character for character, so indexes match the original."""
    return text.translate(_HALF_WIDTH)


def _trim(norm: str, orig: str) -> tuple[str, str]:
    """Drop the @-mention and trailing punctuation from both copies alike;
    a message that is only punctuation ("？", the help spelling) stays."""
    mention = _MENTION.match(norm)
    start = mention.end() if mention else 0
    end = len(norm[start:].rstrip(_TRAILING)) + start
    end = end if end > start else len(norm)
    return norm[start:end], orig[start:end]


def _after_separator(norm: str, orig: str, at: int) -> tuple[str, str, str]:
    """(separator, rest half-width, rest as written) from `at` on."""
    stripped = norm[at:].lstrip(_SPACES + _SEPARATORS)
    sep_end = len(norm) - len(stripped)
    return norm[at:sep_end], norm[sep_end:].strip(), orig[sep_end:].strip()


def normalise(text: str) -> str:
    """Half-width, no @-mention, no trailing punctuation."""
    orig = (text or "").strip()
    return _trim(half_width(orig), orig)[0].strip()


def parse_command(text: str, spellings: Sequence[tuple[str, str]] | None = None) -> Command:
    """`spellings`: (spelling, name) pairs, longest first; the registry's by default."""
    orig = (text or "").strip()
    norm, orig = _trim(half_width(orig), orig)
    lowered = norm.lower()
    for spelling, name in REGISTRY.spellings() if spellings is None else spellings:
        if lowered.startswith(spelling):
            if spelling.isascii() and spelling.isalpha() and lowered[len(spelling):][:1].isalpha():
                continue  # "doneX" is not "done"
            _, rest, rest_orig = _after_separator(norm, orig, len(spelling))
            return _with_number(name, rest, rest_orig)
    return Command("unknown", orig.strip())


def _with_number(name: str, rest: str, rest_orig: str) -> Command:
    """Read the task reference at the start of `rest`, whole or not at all."""
    if not _LOOKS_LIKE_REF.match(rest):
        return Command(name, rest_orig)
    match = _DASH_REF.match(rest) or _REF.match(rest)
    if match is None:  # 第 with no number after it
        return Command(name, rest_orig, problem=f"没看懂“{_quote(rest_orig, 8)}”是第几项：请写一个编号，如 3 或 第三项。")
    end = match.end()
    ref = rest_orig[:end]
    sep, note, note_orig = _after_separator(rest, rest_orig, end)
    bounded = end == len(rest) or bool(sep) or bool(match.groupdict().get("unit"))
    if not bounded:  # 1.5, 1和2, 一千零一夜, 3号楼: not a task number as written
        return Command(name, rest_orig, problem=f"没看懂“{_quote(rest_orig, min(end + 3, 20))}”是第几项：请写一个编号，如 3 或 第三项。")
    if _NUMBER_LIST.fullmatch(note) or (set(sep) & set(_LIST_MARKS) and _starts_with_ref(note)):
        return Command(name, rest_orig, problem=f"一次只能写一项（你写了“{_quote(rest_orig, 20)}”）：请每项单独发送。")
    month_text, number_text = match.group("month"), match.group("number")
    number, month = numeral(number_text), numeral(month_text) if month_text else None
    if month_text and month is not None and not 1 <= month <= 12:
        return Command(name, rest_orig, problem=f"没有{_quote(month_text, 8)}月：月份应为 1–12。")
    if number is None or (month_text and month is None):
        return Command(name, rest_orig, problem=f"没看懂“{_quote(ref, 20)}”是第几项：请写一个编号，如 3 或 第三项。")
    if not 1 <= number <= MAX_ITEM:
        return Command(name, rest_orig, problem=f"“{_quote(ref, 20)}”不是有效的任务编号（应为 1–{MAX_ITEM}）。")
    return Command(name, rest_orig, number, month, note_orig, ref)


def _starts_with_ref(text: str) -> bool:
    """`text` begins with a whole task reference (2, 第二项), not with 2人."""
    match = _REF.match(text)
    if not match:
        return False
    after = text[match.end():match.end() + 1]
    return bool(match.group("unit")) or not after or after.isspace() or after in _SEPARATORS


def _quote(text: str, limit: int) -> str:
    """What the user wrote, shortened for a reply."""
    return text if len(text) <= limit else text[:limit] + "…"


def numeral(text: str) -> int | None:
    """12, 012, 十二, 一百零一, 两百 → the number; None if it is not a
    numeral written the standard way (一二, 十百, 零十, 一百二). Anything longer
    than a task number can be is TOO_BIG without being computed (no
    4,300-digit int())."""
    if text.isascii():
        digits = text.lstrip("0") or "0"
        return int(digits) if text.isdigit() and len(digits) <= 6 else (TOO_BIG if text.isdigit() else None)
    if "万" in text or "亿" in text:
        return TOO_BIG
    total, digit, last_unit = 0, None, 10_000
    for ch in text:
        if ch in _CN_UNIT:
            unit = _CN_UNIT[ch]
            if unit >= last_unit:
                return None  # 十百
            total, digit, last_unit = total + (1 if digit is None else digit) * unit, None, unit
        elif ch in "零〇":
            continue         # where a zero may stand is checked against the written form below
        elif ch in _CN_DIGIT and digit is None:
            digit = _CN_DIGIT[ch]
        else:
            return None      # 一二, or not a numeral at all
    value = total + (digit or 0)
    # Read loosely above, kept only if it is the way the number is written:
    # 一百零一, not 一百一 or 零一百一 — so what is acted on is what was written.
    written = text.replace("两", "二").replace("〇", "零")
    return value if written in (chinese(value), "一" + chinese(value)) and value < 10_000 else None


def chinese(number: int) -> str:
    """1–9,999 as it is written: 十二, 一百零一, 一千零一十."""
    text, gap = "", False
    for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = number // unit % 10
        if digit == 0:
            gap = bool(text)
            continue
        text += ("零" if gap else "") + "零一二三四五六七八九"[digit] + name
        gap = False
    return text[1:] if text.startswith("一十") else text


def need_number(cmd: Command, usage: str) -> int:
    """The task number a command names, or a CommandError saying why not."""
    if cmd.problem:
        raise CommandError(f"{cmd.problem}\n用法：{usage}")
    if cmd.number is None:
        raise CommandError(f"用法：{usage}")
    return cmd.number


def parse_month(text: str) -> Month | None:
    """"2027-03", "2027.3", "2027年3月"; None if it is no month (or its
    year is outside the years 支部通 works in)."""
    return Month.parse(normalise(text))


def day_arg(text: str, what: str) -> date:
    """A date a person typed (2027-03-20, 2027年3月20日), or a CommandError
    that says what is wrong with it."""
    try:
        return parse_day(half_width(text))
    except OutOfRange:
        raise CommandError(f"{what}“{_quote(text, 20)}”的年份不对：应在 {FIRST_YEAR} 至 {LAST_YEAR} 年之间。") from None
    except ValueError:
        raise CommandError(f"{what}“{_quote(text, 20)}”无效，应为 年-月-日，如 2027-03-20。") from None
