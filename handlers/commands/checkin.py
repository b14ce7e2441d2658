"""签到 and location messages: a mobile member keeps in touch."""
from __future__ import annotations

from handlers.context import Context
from handlers.limits import CHECKIN_NOTE
from handlers.parse import Command
from handlers.registry import command
from handlers.render import moment
from storage.checkins import month_checkins, record_checkin


@command("checkin", "签到", "报到", "checkin", "check-in")  # a location message comes here too
def checkin(cmd: Command, ctx: Context) -> str:
    """签到 [说明]：流动党员报到（也可发送位置）"""
    inbound = ctx.inbound
    is_location = inbound.kind == "location"
    note = "" if is_location else CHECKIN_NOTE.check(cmd.rest)
    first = record_checkin(ctx.session, ctx.actor.member.id, ctx.now, note,
                           inbound.latitude, inbound.longitude, inbound.label)
    count, last = month_checkins(ctx.session, ctx.actor.member.id, ctx.month.first_day, ctx.month.end)
    where = f"（位置：{inbound.label}）" if is_location and inbound.label else ""
    head = f"签到成功{where}，时间 {moment(ctx.now)}。" if first else "今天已经签到过了，不用重复签到。"
    return f"{head}\n本月已签到 {count} 天，最近一次 {moment(last)}。"
