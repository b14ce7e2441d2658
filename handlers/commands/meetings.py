"""会议: a branch (or a committee, for its own meetings) logs a meeting with
its roll — absent and excused members by name, everyone else on the roll
attended — and the meeting is the report of the month's matching recurring
task (支委会 → 召开支部委员会会议 …, by the task's duty, not its title).
The server time it arrives is kept beside the date it names, so a record
made long after the event shows as back-filled (补记录) in every view."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from handlers.context import COMMITTEE, REPORTERS, CommandError, Context
from handlers.limits import MEETING_NOTE
from handlers.names import Directory, read_names
from handlers.parse import Command, day_arg, half_width
from handlers.registry import cannot, command
from handlers.render import day, moment, quote, task_label
from storage.meetings import BACKFILL_DAYS, duty_task, people_of, record_meeting, roll_of
from storage.models import ABSENT, BRANCH, EXCUSED, MEETING_KINDS, PRESENT
from storage.reports import add_report
from storage.tasks import REPORTED, state_of

USAGE = ("用法：会议 支委会 2027-03-05 出席 4/5 [缺席 姓名、姓名] [请假 姓名] [说明]，如：会议 支委会 2027-03-05 "
         "出席 4/5 请假 王伟 研究发展党员（类型：" + "、".join(MEETING_KINDS) + "）")
BACKFILL_AFTER = timedelta(days=BACKFILL_DAYS)  # logged later than this after the event: 补记录
MAX_ROLL = 9999  # people expected at one meeting: more is a typo (and would overflow the column)
ROLL_WORDS = {"缺席": ABSENT, "请假": EXCUSED}
ROLL_NAMES = {"支委会": "书记、副书记和支委"}
# The date and the counts are taken as any run of digits and judged afterwards,
# so 0001-01-01 or 出席 99999999999999999999/1 get a reason, not the usage line.
_SHAPE = re.compile(r"^(?P<kind>\S+)\s+(?P<date>[0-9]+[-./年][0-9]+[-./月][0-9]+日?)"
                    r"(?:\s*出席\s*:?\s*(?P<came>[0-9]+)\s*/\s*(?P<of>[0-9]+))?\s*(?P<note>.*)$", re.S)
_ROLL_WORD = re.compile(r"\s*(缺席|请假)\s*[:：]?")


def is_backfilled(held_on: date, received_at) -> bool:
    return received_at.date() - held_on > BACKFILL_AFTER


@command("meeting", "会议", "meeting", roles=(*REPORTERS, COMMITTEE),
         refusal=cannot("记录会议（只有书记、副书记和支委可以）"))
def meeting(cmd: Command, ctx: Context) -> str:
    """会议 支委会 2027-03-05 出席 4/5 [缺席 姓名] [请假 姓名] [说明]：记录会议，未写的应到人员记为出席"""
    return log_meeting(ctx, cmd.rest)


@dataclass(frozen=True)
class Logged:
    reply: str
    task_done: bool  # the meeting became the report of its recurring task


def log_meeting(ctx: Context, text: str, kind: str | None = None) -> str:
    """`text`: 类型 日期 出席 x/y … as typed (`kind` given: 日期 … only, from `完成 N`)."""
    return _log(ctx, f"{kind} {text}" if kind else text).reply


def for_duty(task, note: str, ctx: Context) -> str | None:
    """`完成 N` on a meeting's duty (召开支部委员会会议 …): the meeting's details
    are asked for instead of a bare "done"; given (完成 2 2027-03-05 出席 4/5 …),
    the meeting is logged and is the report. None: a note that is not a
    meeting's details, recorded as a report as before."""
    if not note.strip():
        raise CommandError(f"第{task.number}项「{task.title}」是开会，请连同会议情况一起报，如：\n"
                           f"完成 {task.number} {ctx.now.date().isoformat()} 出席 x/y [缺席 姓名] [请假 姓名] [说明]\n"
                           f"或：会议 {task.duty} 日期 出席 x/y …（记录后本项自动完成）")
    match = _SHAPE.match(half_width(f"{task.duty} {note.strip()}"))
    if not match or not re.match(r"[0-9]{4}\s*[-./年]", match.group("date")):
        return None
    held_on = day_arg(match.group("date"), "会议日期")
    found = duty_task(ctx.session, ctx.actor.branch, task.duty, held_on)
    if found is None or found.id != task.id:  # checked before anything is written
        raise CommandError(f"会议日期 {held_on.isoformat()} 不在第{task.number}项「{task.title}」的期限内，"
                           "未记录。请核对日期。")
    return _log(ctx, f"{task.duty} {note.strip()}").reply


def _log(ctx: Context, text: str) -> Logged:
    match = _SHAPE.match(half_width(text))  # one character for one: the note is cut from what was typed
    if not match:
        raise CommandError(USAGE)
    kind = match.group("kind")
    if kind not in MEETING_KINDS:
        raise CommandError(f"会议类型“{quote(kind)}”不认识，应为：{'、'.join(MEETING_KINDS)}")
    held_on = day_arg(match.group("date"), "会议日期")
    if held_on > ctx.now.date():
        raise CommandError("会议日期在今天之后：请在会议开过后再记录。")
    came, of = _attendance(match.group("came"), match.group("of"))
    unit = ctx.actor.unit
    is_branch = unit.type == BRANCH
    people = people_of(ctx.session, unit.id)
    directory = Directory(people, "本支部" if is_branch else "本单位")
    named, note_at = _named(text, match.start("note"), directory)
    note = MEETING_NOTE.check(text[note_at:].strip())
    roll = roll_of(people, kind, is_branch) or None  # an empty committee in the roster: no roll known
    attendance, warning = None, ""
    if roll is None:
        attendance = dict(named) or None  # no roll: the names given are kept, nobody is assumed present
    else:
        came, of, attendance, warning = _against_roll(kind, roll, named, came, of)
    meeting_row = record_meeting(ctx.session, branch_id=unit.id, kind=kind, held_on=held_on, attended=came,
                                 expected=of, note=note, member_id=ctx.actor.member.id, now=ctx.now,
                                 attendance=attendance)
    lines = [f"已记录{kind}（{day(held_on, ctx.now.date())}）" + (f"，出席 {came}/{of}" if came else "")]
    names = {p.id: p.name for p in people}
    for status, word in ((ABSENT, "缺席"), (EXCUSED, "请假")):
        who = [names[m] for m, s in named.items() if s == status]
        if who:
            lines.append(f"{word}：{'、'.join(who)}")
    if warning:
        lines.append(warning)
    if is_backfilled(held_on, ctx.now):
        lines.append(f"注意：本条于 {moment(ctx.now)} 登记，距会议 {(ctx.now.date() - held_on).days} 天，"
                     "台账中将标注为“补记录”。")
    task_done = False
    if is_branch:
        task = duty_task(ctx.session, unit, kind, held_on)
        if task is not None and state_of(ctx.session, task, unit) != REPORTED:
            # The report's note is what was typed; the meeting it links to holds the rest (date, roll).
            add_report(ctx.session, task, unit, ctx.actor.member.id, note, ctx.now, ctx.inbound_id,
                       meeting_id=meeting_row.id)
            lines.append(f"同时完成{task_label(task, ctx.month)}「{task.title}」，不必再报。")
            task_done = True
    return Logged("\n".join(lines), task_done)


def _named(text: str, at: int, directory: Directory) -> tuple[dict[int, str], int]:
    """缺席 … 请假 … at `at`: member id → absent | excused, and where the note begins."""
    named: dict[int, str] = {}
    norm = half_width(text)
    while word := _ROLL_WORD.match(norm, at):
        status = ROLL_WORDS[word.group(1)]
        listed = read_names(text, word.end(), directory.known)
        if not listed.names:
            raise CommandError(f"“{word.group(1)}”后面请写姓名，多人用顿号隔开，如：{word.group(1)} 王伟、李娜")
        for typed in listed.names:
            person = directory.find(typed)
            if named.get(person.id, status) != status:
                raise CommandError(f"{person.name}既写在缺席里又写在请假里，请核对后重新发送，本条未记录。")
            named[person.id] = status
        at = listed.end
    return named, at


def _against_roll(kind: str, roll, named: dict[int, str], came: int | None, of: int | None):
    """The roll and what was typed must agree, or nothing is written:
    (出席, 应到, attendance by name, "" — no warning is left to give)."""
    on_roll = {p.id for p in roll}
    outside = [m for m in named if m not in on_roll]
    if outside:
        raise CommandError(f"{kind}的应到人员是{ROLL_NAMES.get(kind, '本支部全体党员')}，所写的人中有不在其中的，"
                           "请核对后重新发送，本条未记录。")
    absent = sum(1 for s in named.values() if s == ABSENT)
    excused = len(named) - absent
    expected = len(roll)
    present = expected - len(named)
    if came is None:
        came, of = present, expected
    elif of != expected:
        # A bare head-count that disagrees with the roll is refused too (issue 12:
        # x/y must agree with the roll): kept as it was typed, nobody's
        # attendance or points would be known.
        raise CommandError(f"应到人数 {of} 与名册不符：按名册，本支部{kind}应到 {expected} 人"
                           f"（{ROLL_NAMES.get(kind, '全体党员')}），本条未记录。\n" + _roll_help(kind, expected))
    elif came != present:
        detail = f"缺席 {absent} 人、请假 {excused} 人" if named else "没有写缺席、请假的人"
        raise CommandError(f"出席 {came}/{of} 与名单不符：应到 {expected} 人，{detail}，出席应为 {present} 人。"
                           "请写明缺席、请假的姓名（多人用顿号隔开）后重新发送，本条未记录。")
    attendance = {p.id: named.get(p.id, PRESENT) for p in roll}
    return came, of, attendance, ""


def _roll_help(kind: str, expected: int) -> str:
    """How to write a meeting against a roll of `expected` people."""
    example = (f"出席 {expected - 2}/{expected} 缺席 张三 请假 李四" if expected >= 3 else
               f"出席 {expected - 1}/{expected} 请假 李四" if expected == 2 else "出席 1/1")
    return (f"请按名册写“出席 x/{expected}”，并写明缺席、请假的姓名（多人用顿号隔开，未写的应到人员记为出席），"
            f"如：会议 {kind} 日期 {example}；全部到会可写“出席 {expected}/{expected}”。"
            "名册有误请联系组织部更新名册。")


def _attendance(came_text: str | None, of_text: str | None) -> tuple[int | None, int | None]:
    """出席 x/y as numbers a meeting can have: 1 ≤ x ≤ y ≤ MAX_ROLL."""
    if came_text is None:
        return None, None
    if max(len(came_text.lstrip("0")), len(of_text.lstrip("0"))) > len(str(MAX_ROLL)):
        raise CommandError(f"出席人数“{quote(came_text, 8)}/{quote(of_text, 8)}”不合理：应到人数最多 {MAX_ROLL} 人，请核对。")
    came, of = int(came_text), int(of_text)
    if of < 1 or came < 1:
        raise CommandError(f"出席 {came}/{of} 不合理：应到和实到都至少 1 人，请核对。")
    if came > of:
        raise CommandError(f"出席人数 {came} 大于应到人数 {of}，请核对。")
    return came, of
