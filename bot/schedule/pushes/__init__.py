"""The push table: everything the scheduler sends, one module per kind.
Each module says *when* (`due`: the period due on a day, by a rule over
working days, or None) and *what* (`messages`: the Messages for that
period). The daily job and the manual `remind` / `push-monthly` commands
run this same table; "once" is the (job, period) run key plus the outbox's
(target, purpose, period) key. A new push is a module and a line below."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

from sqlalchemy.orm import Session

from storage.outbox import Message


@dataclass(frozen=True)
class Push:
    name: str                                              # the job key, and the messages' purpose
    due: Callable[[Session, date], str | None]             # the period due on a day, or None
    messages: Callable[[Session, date, str], list[Message]]
    late: Callable[[Session, date], str | None] | None = None  # why a run is late, for staff


def _table() -> list[Push]:
    from bot.schedule.pushes import (checkin_reminder, development_reminder, failure_digest, ladder,
                                     mobile_list, monthly_sheet, rectification_candidates, term_reminder,
                                     theme_day)
    return [monthly_sheet.PUSH, ladder.PUSH, checkin_reminder.PUSH,
            mobile_list.PUSH, theme_day.PUSH, development_reminder.PUSH, term_reminder.PUSH,
            rectification_candidates.PUSH, failure_digest.PUSH]


PUSHES: list[Push] = _table()
BY_NAME = {p.name: p for p in PUSHES}
