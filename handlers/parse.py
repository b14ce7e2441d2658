"""Chat text → Command. Pure and tolerant: full-width characters, `完成：3`,
`完成3`, `完成 第三项` (Chinese numerals via cn2an), extra spaces, trailing
punctuation and an @-mention prefix all parse the same.

Parsing reads a half-width copy of the text, mapped one character to one
character, so the note the user wrote is cut from the original and keeps
its own punctuation (“已排查，无问题” stays as typed).

The command words are the registry's spellings (handlers/registry.py),
read at the first parse: the command modules that declare them import this
one, so the table cannot be read at import time."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import cn2an

from handlers.registry import REGISTRY
from storage.month import Month

_MENTION = re.compile(r"^(@\S+\s*)+")
_TRAILING = re.compile(r"[\s。.!！?？~～、,;；]+$")
_SEPARATOR = re.compile(r"^[\s:：,，、]+")
_CN_DIGITS = "零〇一二两三四五六七八九十百"
_NUMBER = re.compile(rf"^(?:第)?(?:(\d{{1,2}}|[{_CN_DIGITS}]+)月(?:第)?)?(\d+|[{_CN_DIGITS}]+)(?:项|条|个)?")
_MONTH_DASH = re.compile(r"^(\d{1,2})-(\d+)")


@dataclass(frozen=True)
class Command:
    name: str            # a registered command's name, or "unknown"
    rest: str = ""       # what follows the command word, normalised
    number: int | None = None
    month: int | None = None   # for `完成 10月第2项`: an earlier month's task
    note: str = ""       # what follows the number


_HALF_WIDTH = {0x3000: " ", **{c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}}


def _trim(norm: str, orig: str) -> tuple[str, str]:
    """Drop the @-mention and trailing punctuation from both copies alike;
    a message that is only punctuation ("？", the help spelling) stays."""
    mention = _MENTION.match(norm)
    start = mention.end() if mention else 0
    trailing = _TRAILING.search(norm, start)
    end = trailing.start() if trailing and trailing.start() > start else len(norm)
    return norm[start:end], orig[start:end]


def _after_separator(norm: str, orig: str, at: int) -> tuple[str, str]:
    sep = _SEPARATOR.match(norm[at:])
    at += sep.end() if sep else 0
    return norm[at:].strip(), orig[at:].strip()


def normalise(text: str) -> str:
    """Half-width, no @-mention, no trailing punctuation."""
    orig = (text or "").strip()
    return _trim(orig.translate(_HALF_WIDTH), orig)[0].strip()


def parse_command(text: str, spellings: Sequence[tuple[str, str]] | None = None) -> Command:
    """`spellings`: (spelling, name) pairs, longest first; the registry's by default."""
    orig = (text or "").strip()
    norm, orig = _trim(orig.translate(_HALF_WIDTH), orig)
    lowered = norm.lower()
    for spelling, name in REGISTRY.spellings() if spellings is None else spellings:
        if lowered.startswith(spelling):
            if spelling.isascii() and spelling.isalpha() and lowered[len(spelling):][:1].isalpha():
                continue  # "doneX" is not "done"
            rest, rest_orig = _after_separator(norm, orig, len(spelling))
            return _with_number(name, rest, rest_orig)
    return Command("unknown", orig.strip())


def _with_number(name: str, rest: str, rest_orig: str) -> Command:
    match = _MONTH_DASH.match(rest) or _NUMBER.match(rest)
    if not match:
        return Command(name, rest_orig)
    month_text, number_text = match.group(1), match.group(2)
    number, month = to_int(number_text), to_int(month_text) if month_text else None
    if number is None or (month_text and month is None):
        return Command(name, rest_orig)
    note = _after_separator(rest, rest_orig, match.end())[1]
    return Command(name, rest_orig, number, month, note)


def parse_month(text: str) -> Month | None:
    """"2027-03", "2027.3", "2027年3月"; None if it is no month."""
    return Month.parse(normalise(text))


def to_int(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    try:
        value = cn2an.cn2an(text.replace("〇", "零"), "smart")
    except (ValueError, KeyError):
        return None
    return int(value) if float(value).is_integer() else None
