"""Chat text → Command. Pure and tolerant: full-width characters, `完成：3`,
`完成3`, `完成 第三项` (Chinese numerals via cn2an), extra spaces, trailing
punctuation and an @-mention prefix all parse the same."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import cn2an

# command name → spellings (Chinese first); longest spelling wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "help": ("帮助", "help", "菜单", "?"),
    "tasks": ("任务", "tasks", "task"),
    "done": ("完成", "上报", "done"),
    "correct": ("更正", "修改", "correct"),
    "progress": ("进度", "progress"),
    "sheet": ("提醒单", "sheet"),
    "checkin": ("签到", "报到", "checkin", "check-in"),
    "whoami": ("我的", "我是谁", "whoami", "me"),
    "publish": ("发布", "publish"),
    "chase": ("催办", "chase"),
    "return": ("退回", "return"),
    "meeting": ("会议", "meeting"),
    "bulletin": ("通报", "bulletin"),
}
_SPELLINGS = sorted(((s, n) for n, ss in ALIASES.items() for s in ss), key=lambda x: -len(x[0]))
_MENTION = re.compile(r"^(@\S+\s*)+")
_TRAILING = re.compile(r"[\s。.!！?？~～、,;；]+$")
_SEPARATOR = re.compile(r"^[\s:：,，、]+")
_CN_DIGITS = "零〇一二两三四五六七八九十百"
_NUMBER = re.compile(rf"^(?:第)?(?:(\d{{1,2}}|[{_CN_DIGITS}]+)月(?:第)?)?(\d+|[{_CN_DIGITS}]+)(?:项|条|个)?")
_MONTH_DASH = re.compile(r"^(\d{1,2})-(\d+)")


@dataclass(frozen=True)
class Command:
    name: str            # a key of ALIASES, or "unknown"
    rest: str = ""       # what follows the command word, normalised
    number: int | None = None
    month: int | None = None   # for `完成 10月第2项`: an earlier month's task
    note: str = ""       # what follows the number


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC), no @-mention, no trailing punctuation."""
    text = unicodedata.normalize("NFKC", text or "").replace("\u3000", " ")
    text = _MENTION.sub("", text.strip())
    return _TRAILING.sub("", re.sub(r"\s+", " ", text)).strip()


def parse_command(text: str) -> Command:
    text = normalise(text)
    lowered = text.lower()
    for spelling, name in _SPELLINGS:
        if lowered.startswith(spelling):
            rest = text[len(spelling):]
            if spelling.isascii() and spelling.isalpha() and rest[:1].isalpha():
                continue  # "doneX" is not "done"
            rest = _SEPARATOR.sub("", rest).strip()
            return _with_number(name, rest)
    return Command("unknown", text)


def _with_number(name: str, rest: str) -> Command:
    match = _MONTH_DASH.match(rest) or _NUMBER.match(rest)
    if not match:
        return Command(name, rest)
    month_text, number_text = match.group(1), match.group(2)
    number, month = to_int(number_text), to_int(month_text) if month_text else None
    if number is None or (month_text and month is None):
        return Command(name, rest)
    note = _SEPARATOR.sub("", rest[match.end():]).strip()
    return Command(name, rest, number, month, note)


def to_int(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    try:
        value = cn2an.cn2an(text.replace("〇", "零"), "smart")
    except (ValueError, KeyError):
        return None
    return int(value) if float(value).is_integer() else None
