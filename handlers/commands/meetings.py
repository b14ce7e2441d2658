"""会议: a branch logs a 三会一课 meeting or 主题党日, with attendance. The
server time it arrives is kept beside the date it names, so a record made
long after the event shows as back-filled (补记录) in the ledger."""
from __future__ import annotations

import re
from datetime import date, timedelta

from handlers.context import REPORTERS, CommandError, Context
from handlers.limits import MEETING_NOTE
from handlers.parse import Command, day_arg, half_width
from handlers.registry import cannot, command
from handlers.render import day, moment, quote
from storage.ledger import BACKFILL_DAYS
from storage.meetings import record_meeting
from storage.models import MEETING_KINDS

USAGE = "用法：会议 支委会 2027-03-05 出席 7/9 [说明]（类型：" + "、".join(MEETING_KINDS) + "）"
BACKFILL_AFTER = timedelta(days=BACKFILL_DAYS)  # logged later than this after the event: 补记录
MAX_ROLL = 9999  # people expected at one meeting: more is a typo (and would overflow the column)
# The date and the counts are taken as any run of digits and judged afterwards,
# so 0001-01-01 or 出席 99999999999999999999/1 get a reason, not the usage line.
_SHAPE = re.compile(r"^(?P<kind>\S+)\s+(?P<date>[0-9]+[-./年][0-9]+[-./月][0-9]+日?)"
                    r"(?:\s*出席\s*:?\s*(?P<came>[0-9]+)\s*/\s*(?P<of>[0-9]+))?\s*(?P<note>.*)$", re.S)


def is_backfilled(held_on: date, received_at) -> bool:
    return received_at.date() - held_on > BACKFILL_AFTER


@command("meeting", "会议", "meeting", roles=REPORTERS, refusal=cannot("记录会议（只有书记、副书记和支委可以）"))
def meeting(cmd: Command, ctx: Context) -> str:
    """会议 支委会 2027-03-05 出席 7/9 [说明]：记录三会一课和主题党日"""
    match = _SHAPE.match(half_width(cmd.rest))  # one character for one: the note is cut from what was typed
    if not match:
        raise CommandError(USAGE)
    kind = match.group("kind")
    if kind not in MEETING_KINDS:
        raise CommandError(f"会议类型“{quote(kind)}”不认识，应为：{'、'.join(MEETING_KINDS)}")
    held_on = day_arg(match.group("date"), "会议日期")
    if held_on > ctx.now.date():
        raise CommandError("会议日期在今天之后：请在会议开过后再记录。")
    came, of = _attendance(match.group("came"), match.group("of"))
    note = MEETING_NOTE.check(cmd.rest[match.start("note"):].strip())
    record_meeting(ctx.session, branch_id=ctx.actor.branch.id, kind=kind, held_on=held_on,
                   attended=came, expected=of, note=note, member_id=ctx.actor.member.id, now=ctx.now)
    lines = [f"已记录{kind}（{day(held_on, ctx.now.date())}）" + (f"，出席 {came}/{of}" if came else "")]
    if is_backfilled(held_on, ctx.now):
        lines.append(f"注意：本条于 {moment(ctx.now)} 登记，距会议 {(ctx.now.date() - held_on).days} 天，"
                     "台账中将标注为“补记录”。")
    return "\n".join(lines)


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
