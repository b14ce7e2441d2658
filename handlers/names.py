"""Names people type, matched against a branch's members — never guessed.

Tolerant of spaces inside a name (“王 伟”), full-width punctuation and
either list mark (、，,；;); a name two members share is told apart by the
last digits of the phone number in brackets: 王伟(1234). A name matching
nobody, or more than one person, is asked back with the reason; where a
member's name sounds the same (pypinyin, if installed) it is offered as a
question, not taken."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from handlers.context import CommandError
from handlers.parse import half_width
from handlers.render import quote

SEPARATORS = "、,，;；/"
_SPACE = re.compile(r"\s+")
_WITH_TAIL = re.compile(r"^(?P<name>.+?)[(（](?P<tail>[0-9]{3,4})[)）]$")


def clean(name: str) -> str:
    """The comparable form: half-width, no spaces, no middle dot variants."""
    return _SPACE.sub("", half_width(name)).replace("•", "·").replace("・", "·")


@dataclass(frozen=True)
class NameList:
    names: list[str]   # as typed
    end: int           # where the list ends in the text


def read_names(text: str, start: int, known: Callable[[str], bool]) -> NameList:
    """The name list that begins at `start`: names separated by list marks;
    a space ends it (what follows is the note) unless the name so far is no
    member's and the name with the next word is (“王 伟”)."""
    norm, at, names = half_width(text), start, []
    while True:
        while at < len(norm) and norm[at].isspace():
            at += 1
        token_start = at
        while at < len(norm) and not norm[at].isspace() and norm[at] not in SEPARATORS:
            at += 1
        token = text[token_start:at]
        while not known(token):  # “王 伟”: join the next word while that makes a member's name
            nxt = at
            while nxt < len(norm) and norm[nxt].isspace():
                nxt += 1
            word_end = nxt
            while word_end < len(norm) and not norm[word_end].isspace() and norm[word_end] not in SEPARATORS:
                word_end += 1
            if word_end == nxt or not known(text[token_start:word_end]):
                break
            at, token = word_end, text[token_start:word_end]
        if token:
            names.append(token)
        look = at
        while look < len(norm) and norm[look].isspace():
            look += 1
        if look < len(norm) and norm[look] in SEPARATORS:
            at = look + 1
            continue
        return NameList(names, at)


class Directory:
    """A branch's members by name (any objects with .id, .name, .phone)."""

    def __init__(self, people: Sequence, where: str = "本支部"):
        self.people, self.where = list(people), where
        self.by_name: dict[str, list] = {}
        for p in self.people:
            self.by_name.setdefault(clean(p.name), []).append(p)

    def known(self, typed: str) -> bool:
        match = _WITH_TAIL.match(clean(typed))
        return clean(match.group("name") if match else typed) in self.by_name

    def find(self, typed: str):
        """The one member `typed` names, or a CommandError asking back."""
        key = clean(typed)
        tail = None
        if match := _WITH_TAIL.match(key):
            key, tail = match.group("name"), match.group("tail")
        found = self.by_name.get(key, [])
        if tail is not None:
            found = [p for p in found if (p.phone or "").endswith(tail)]
        if len(found) == 1:
            return found[0]
        if not found and tail is None:
            hint = self._sounds_like(key)
            raise CommandError(f"{self.where}名册中没有“{quote(typed, 10)}”。"
                               + (f"是不是“{'”或“'.join(hint)}”？" if hint else "")
                               + "请核对姓名后重新发送，本条未记录。")
        if not found:
            raise CommandError(f"{self.where}没有手机尾号为 {tail} 的“{quote(key, 10)}”，请核对后重新发送，本条未记录。")
        tails = [(p.phone or "")[-4:] for p in found]
        if all(tails) and len(set(tails)) == len(tails):
            examples = "、".join(f"{key}({t})" for t in tails)
            raise CommandError(f"{self.where}有 {len(found)} 位“{key}”，请写明是哪一位（姓名后加手机尾号），"
                               f"如：{examples}。本条未记录。")
        raise CommandError(f"{self.where}有 {len(found)} 位“{key}”，无法区分，请联系组织部核对名册。本条未记录。")

    def _sounds_like(self, key: str) -> list[str]:
        try:
            from pypinyin import lazy_pinyin
        except ImportError:  # optional: without it, no suggestion
            return []
        sound = lazy_pinyin(key)
        return sorted({p.name for p in self.people if lazy_pinyin(clean(p.name)) == sound})[:3]
