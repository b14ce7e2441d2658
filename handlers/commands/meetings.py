"""会议: a branch logs a 三会一课 meeting or 主题党日, with attendance. The
server time it arrives is kept beside the date it names, so a record made
long after the event shows as back-filled (补记录) in the ledger."""
from __future__ import annotations

import re
from datetime import date, timedelta

from handlers.context import REPORTERS, CommandError, Context
from handlers.parse import Command, normalise
from handlers.registry import cannot, command
from handlers.render import day, moment
from storage.ledger import BACKFILL_DAYS
from storage.meetings import record_meeting
from storage.models import MEETING_KINDS

USAGE = "用法：会议 支委会 2027-03-05 出席 7/9 [说明]（类型：" + "、".join(MEETING_KINDS) + "）"
BACKFILL_AFTER = timedelta(days=BACKFILL_DAYS)  # logged later than this after the event: 补记录
_SHAPE = re.compile(r"^(?P<kind>\S+)\s+(?P<date>\d{4}[-./]\d{1,2}[-./]\d{1,2})"
                    r"(?:\s*出席\s*[:：]?\s*(?P<came>\d+)\s*/\s*(?P<of>\d+))?\s*(?P<note>.*)$", re.S)


def is_backfilled(held_on: date, received_at) -> bool:
    return received_at.date() - held_on > BACKFILL_AFTER


@command("meeting", "会议", "meeting", roles=REPORTERS, refusal=cannot("记录会议（只有书记、副书记和支委可以）"))
def meeting(cmd: Command, ctx: Context) -> str:
    """会议 支委会 2027-03-05 出席 7/9 [说明]：记录三会一课和主题党日"""
    match = _SHAPE.match(normalise(cmd.rest))
    if not match:
        raise CommandError(USAGE)
    kind = match.group("kind")
    if kind not in MEETING_KINDS:
        raise CommandError(f"会议类型“{kind}”不认识，应为：{'、'.join(MEETING_KINDS)}")
    y, m, d = re.split(r"[-./]", match.group("date"))
    try:
        held_on = date(int(y), int(m), int(d))
    except ValueError:
        raise CommandError(f"日期“{match.group('date')}”无效，应为 YYYY-MM-DD") from None
    if held_on > ctx.now.date():
        raise CommandError("会议日期在今天之后：请在会议开过后再记录。")
    came, of = match.group("came"), match.group("of")
    if came and int(came) > int(of):
        raise CommandError(f"出席人数 {came} 大于应到人数 {of}，请核对。")
    record_meeting(ctx.session, branch_id=ctx.actor.branch.id, kind=kind, held_on=held_on,
                   attended=int(came) if came else None, expected=int(of) if of else None,
                   note=match.group("note").strip()[:1000], member_id=ctx.actor.member.id, now=ctx.now)
    lines = [f"已记录{kind}（{day(held_on)}）" + (f"，出席 {came}/{of}" if came else "")]
    if is_backfilled(held_on, ctx.now):
        lines.append(f"注意：本条于 {moment(ctx.now)} 登记，距会议 {(ctx.now.date() - held_on).days} 天，"
                     "台账中将标注为“补记录”。")
    return "\n".join(lines)
