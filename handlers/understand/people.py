"""Names in own words, found on a branch's roll. Voice-to-text writes a name
by its sound (孔勇秀 for 孔永秀), people call each other 老李 and 小王, and
nobody puts 、 between 张三李四: all three are read here, and a name that
fits two members, or none, is asked back — never guessed.

Sounds are compared per character with pypinyin (toneless, each character's
common reading, cached), so the same rule applies to the roll and the text."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

NAME_SEPARATORS = "、,，和与及跟同/ :："
NICK_PREFIXES = "老小"


@lru_cache(maxsize=8192)
def sound(char: str) -> str:
    # Imported at the first name read, not with the app: pypinyin's dictionary
    # takes ~0.5 s to load, which every web worker would otherwise pay at start.
    from pypinyin import lazy_pinyin
    return lazy_pinyin(char)[0]


def sounds(text: str) -> tuple[str, ...]:
    return tuple(sound(c) for c in text)


@dataclass(frozen=True)
class Found:
    typed: str                   # as written: 老李, 孔勇秀
    people: tuple                # the members it may mean (one: found; several: ask back; none: unknown)
    start: int
    end: int

    @property
    def one(self):
        return self.people[0] if len(self.people) == 1 else None


@dataclass
class Roll:
    """A branch's members (objects with .id and .name), by name, sound and surname."""
    people: Sequence
    by_name: dict = field(init=False)
    by_sound: dict = field(init=False)
    by_surname: dict = field(init=False)

    def __post_init__(self) -> None:
        self.by_name, self.by_sound, self.by_surname = {}, {}, {}
        for p in self.people:
            self.by_name.setdefault(p.name, []).append(p)
            self.by_sound.setdefault(sounds(p.name), []).append(p)
            self.by_surname.setdefault(sound(p.name[0]), []).append(p)
        self.lengths = sorted({len(p.name) for p in self.people if 2 <= len(p.name) <= 4}, reverse=True)

    def at(self, text: str, start: int, sound_alike: bool = True) -> Found | None:
        """The name that begins at `start`: a member's name as written, one
        that sounds the same, or 老X / 小X (X: a surname, by sound)."""
        for n in self.lengths:
            word = text[start:start + n]
            if len(word) == n and word in self.by_name:
                return Found(word, tuple(self.by_name[word]), start, start + n)
        if sound_alike:
            for n in self.lengths:
                word = text[start:start + n]
                if len(word) == n and _is_han(word) and (alike := self.by_sound.get(sounds(word))):
                    return Found(word, tuple(alike), start, start + n)
        word = text[start:start + 2]
        if len(word) == 2 and word[0] in NICK_PREFIXES and _is_han(word[1]):
            return Found(word, tuple(self.by_surname.get(sound(word[1]), ())), start, start + 2)
        if title := _TITLE.match(text, start + 1):  # 高主任, 王书记: a surname and a title
            word = text[start:title.end()]
            if _is_han(text[start]) and text[start] not in _NOT_NAME:
                return Found(word, tuple(self.by_surname.get(sound(text[start]), ())), start, title.end())
        return None

    def run_after(self, text: str, start: int, limit: int | None = None) -> list[Found]:
        """Names one after another from `start` (缺席张三李四, 缺席 张三、李四), up to `limit`."""
        found, at = [], start
        text = text if limit is None else text[:limit]
        while True:
            while at < len(text) and text[at] in NAME_SEPARATORS:
                at += 1
            name = self.at(text, at)
            if name is None:
                if not found and (typed := _unknown_word(text, at)):
                    found.append(Found(typed, (), at, at + len(typed)))  # a name nobody has: asked back
                return found
            found.append(name)
            at = name.end

    def run_before(self, text: str, end: int, floor: int = 0) -> list[Found]:
        """Names one after another ending at `end` (王五李四请假): the longest
        run that begins at `floor` or later."""
        best: list[Found] = []
        for start in range(max(floor, end - 16), end):
            run = self._exact_run(text, start, end)
            if run is not None and sum(f.end - f.start for f in run) > sum(f.end - f.start for f in best):
                best = run
        if not best and (typed := _unknown_word_before(text[floor:end], end - floor)):
            best = [Found(typed, (), end - len(typed), end)]
        return best

    def _exact_run(self, text: str, start: int, end: int) -> list[Found] | None:
        found, at = [], start
        while at < end:
            if text[at] in NAME_SEPARATORS:
                at += 1
                continue
            name = self.at(text, at)
            if name is None or name.end > end:
                return None
            found.append(name)
            at = name.end
        return found or None

    def anywhere(self, text: str, sound_alike_until: int = 0) -> list[Found]:
        """Every name in `text`: as written anywhere; by sound or as 老X only
        before `sound_alike_until` (where a name is expected), so ordinary
        words later in a sentence are not taken for names."""
        found, at = [], 0
        while at < len(text):
            name = self.at(text, at, sound_alike=at < sound_alike_until)
            if name is not None and (name.people or at < sound_alike_until) and \
                    (at < sound_alike_until or name.typed in self.by_name):
                found.append(name)
                at = name.end
            else:
                at += 1
        return found


_TITLE = re.compile(r"主任|书记|支书|委员|老师|大姐|大哥|叔|婶|姐|哥")
_NOT_NAME = set("的了在是有个人到会开和与及说把被给让叫要也都就还没不已请假缺席签报")


def _is_han(text: str) -> bool:
    return all("\u4e00" <= c <= "\u9fff" for c in text)


def _unknown_word(text: str, at: int) -> str:
    """A 2–3 character word that stands where a name should (缺席张三)."""
    n = 0
    while at + n < len(text) and n < 3 and _is_han(text[at + n]) and text[at + n] not in _NOT_NAME:
        n += 1
    return text[at:at + n] if n >= 2 else ""


def _unknown_word_before(text: str, end: int) -> str:
    n = 0
    while end - n - 1 >= 0 and n < 3 and _is_han(text[end - n - 1]) and text[end - n - 1] not in _NOT_NAME:
        n += 1
    return text[end - n:end] if n >= 2 else ""
