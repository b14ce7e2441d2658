"""The one table of chat commands. Each is declared once, at its function:

    @command("done", "完成", "上报", "done", roles=REPORTERS,
             refusal=cannot("为支部上报（只有书记、副书记和支委可以上报）"))
    def done(cmd: Command, ctx: Context) -> str:
        \"\"\"完成 N [说明]：上报第N项已完成，如：完成 2 已开会，到会9人\"\"\"

name, spellings (Chinese first), the roles that may use it, what the others
are told, and the function; the docstring's first line is its help line.
Parsing (the spellings), dispatch (the role check, once, before the function
runs) and 帮助 (the help lines a role may use, in table order) all read it.

A command that means something else to another role registers that role's
function under the same name without spellings:

    @command("progress", roles=STAFF)
    def progress_of_branches(cmd, ctx): \"\"\"进度 [N]：下属支部完成情况…\"\"\"
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable

from handlers.context import ALL_ROLES, Actor, CommandError, Context

if TYPE_CHECKING:  # parse.py reads spellings from here: no import back at run time
    from handlers.parse import Command

Fn = Callable[["Command", Context], str]
Refusal = Callable[[Actor], str]


def cannot(what: str) -> Refusal:
    """The usual refusal: 你的职务（党员）不能{what}。"""
    return lambda actor: f"你的职务（{actor.member.role}）不能{what}。"


def told(text: str) -> Refusal:
    """A refusal that is the same sentence for everyone refused."""
    return lambda actor: text


@dataclass
class Handler:
    fn: Fn
    roles: frozenset[str]

    @property
    def help(self) -> str:
        """The docstring's first line: what 帮助 shows."""
        return (self.fn.__doc__ or "").strip().split("\n")[0].strip()


@dataclass
class Entry:
    name: str
    spellings: tuple[str, ...] = ()
    handlers: list[Handler] = field(default_factory=list)
    refusal: Refusal | None = None
    listed: bool = True    # shown by 帮助

    def handler_for(self, kind: str) -> Handler | None:
        return next((h for h in self.handlers if kind in h.roles), None)


class Registry:
    """Commands in registration order (which is the order 帮助 lists them)."""

    def __init__(self, loads: str | None = None):
        self.entries: dict[str, Entry] = {}
        self._loads = loads          # the package whose import registers everything
        self._spellings: list[tuple[str, str]] | None = None

    def command(self, name: str, *spellings: str, roles: Iterable[str] = ALL_ROLES,
                refusal: Refusal | None = None, listed: bool = True) -> Callable[[Fn], Fn]:
        def register(fn: Fn) -> Fn:
            entry = self.entries.setdefault(name, Entry(name))
            if spellings and entry.spellings:
                raise ValueError(f"command {name!r} is spelled in two places")
            entry.spellings = entry.spellings or tuple(spellings)
            entry.handlers.append(Handler(fn, frozenset(roles)))
            entry.refusal = refusal or entry.refusal
            entry.listed = entry.listed and listed
            self._spellings = None
            return fn
        return register

    def loaded(self) -> Registry:
        """Import the command families once, so the table is complete, and
        refuse a wrong one (dispatch loads it when the app starts)."""
        if self._loads:
            loads, self._loads = self._loads, None
            importlib.import_module(loads)
            if found := self.problems():
                raise RuntimeError("chat command table is wrong: " + "; ".join(found))
        return self

    def spellings(self) -> list[tuple[str, str]]:
        """(spelling, name), longest first: the longest spelling wins."""
        if self._spellings is None:
            pairs = [(s, e.name) for e in self.loaded().entries.values() for s in e.spellings]
            self._spellings = sorted(pairs, key=lambda pair: -len(pair[0]))
        return self._spellings

    def __contains__(self, name: str) -> bool:
        return name in self.loaded().entries

    def resolve(self, name: str, actor: Actor) -> Fn:
        """The function this actor's role runs for `name`, or the command's
        refusal as a CommandError — before anything is read or written."""
        entry = self.loaded().entries[name]
        handler = entry.handler_for(actor.kind)
        if handler is None:
            raise CommandError(entry.refusal(actor) if entry.refusal else "你不能使用这个命令。")
        return handler.fn

    def help_lines(self, kind: str) -> list[str]:
        """The help line of every listed command this role may use."""
        return [h.help for e in self.loaded().entries.values()
                if e.listed and (h := e.handler_for(kind)) is not None]

    def problems(self) -> list[str]:
        """What makes the table wrong; empty when it is right."""
        found, owner = [], {}
        for e in self.loaded().entries.values():
            found += _entry_problems(e)
            for s in e.spellings:
                if s in owner:
                    found.append(f"{s!r} spells both {owner[s]!r} and {e.name!r}")
                owner[s] = e.name
        return found


def _entry_problems(e: Entry) -> list[str]:
    found = [] if e.spellings else [f"{e.name!r}: a handler no spelling reaches (no spellings)"]
    found += [f"{e.name!r}: spelling {s!r} can never match (parsing reads half-width lower case)"
              for s in e.spellings if not _matchable(s)]
    for h in e.handlers:
        if not h.help:
            found.append(f"{e.name!r}: {h.fn.__qualname__} has no docstring (its help line)")
        if not h.roles or not h.roles <= set(ALL_ROLES):
            found.append(f"{e.name!r}: {h.fn.__qualname__} has roles {sorted(h.roles)}, not some of {ALL_ROLES}")
    taken = [r for h in e.handlers for r in h.roles]
    if len(taken) != len(set(taken)):
        found.append(f"{e.name!r}: two functions for the same role")
    if set(taken) != set(ALL_ROLES) and e.refusal is None:
        found.append(f"{e.name!r}: some roles may not use it, but no refusal says why")
    return found


def _matchable(spelling: str) -> bool:
    """Parsing compares a stripped, lower-cased, half-width copy of the text."""
    full_width = any(0xFF01 <= ord(c) <= 0xFF5E or c == "\u3000" for c in spelling)
    return bool(spelling) and spelling == spelling.lower().strip() and not full_width


REGISTRY = Registry(loads="handlers.commands")
command = REGISTRY.command
