"""A member's own record: 志愿 (volunteer hours), 学习 (study), 双报到 (the
community an in-service member serves). Each is one short message; 我的
shows the quarter (handlers/commands/basics.py)."""
from __future__ import annotations

import re

from handlers.commands.checkin import remote_theme_day
from handlers.context import BRANCH, NOT_A_BRANCH, CommandError, Context
from handlers.limits import STUDY_CONTENT, VOLUNTEER_NOTE
from handlers.parse import Command, half_width
from handlers.registry import command, told
from handlers.render import moment, quote
from storage.month import Month
from storage.people import communities, community_service, member_stats, record_study, record_volunteer
from storage.people import register_community
from storage.theme_day import STUDY

MAX_HOURS = 24  # one entry is one day's service at most
_HOURS = re.compile(r"^\s*(?P<n>[0-9]+(?:\.[0-9])?)\s*(?:个)?\s*(?:小时|h|hr|hrs|钟头)\s*(?P<note>.*)$", re.S | re.I)


@command("volunteer", "志愿", "volunteer", roles=BRANCH, refusal=told(NOT_A_BRANCH))
def volunteer(cmd: Command, ctx: Context) -> str:
    """志愿 N小时 [说明]：登记志愿服务时长，如：志愿 2小时 社区垃圾分类宣传"""
    match = _HOURS.match(half_width(cmd.rest))
    if not match:
        raise CommandError("用法：志愿 N小时 [说明]，如：志愿 2小时 社区垃圾分类宣传（可精确到半小时：志愿 1.5小时）")
    hours = float(match.group("n"))
    if not 0 < hours <= MAX_HOURS:
        raise CommandError(f"时长 {match.group('n')} 小时不合理：一次登记应在 0.5–{MAX_HOURS} 小时之间。")
    note = VOLUNTEER_NOTE.check(cmd.rest[match.start("note"):].strip())
    row = record_volunteer(ctx.session, ctx.actor.member.id, hours, note, ctx.now)
    quarter = Month.of(ctx.now.date())
    stats = member_stats(ctx.session, *_quarter(quarter), [ctx.actor.member.id])[ctx.actor.member.id]
    lines = [f"已登记志愿服务 {hours:g} 小时（{moment(ctx.now)}）。本季度累计 {stats.volunteer_hours:g} 小时。"]
    if row.community_id:
        lines.append("已同时计入你双报到的社区。")
    lines.append("如有照片，10分钟内单聊发给我，作为这次志愿服务的记录。")
    return "\n".join(lines)


@command("study", "学习", "study", roles=BRANCH, refusal=told(NOT_A_BRANCH))
def study(cmd: Command, ctx: Context) -> str:
    """学习 [内容]：登记一次理论学习，如：学习 党章第二章"""
    content = STUDY_CONTENT.check(cmd.rest.strip())
    record_study(ctx.session, ctx.actor.member.id, content, ctx.now)
    stats = member_stats(ctx.session, *_quarter(ctx.month), [ctx.actor.member.id])[ctx.actor.member.id]
    what = f"“{quote(content, 20)}”" if content else ""
    lines = [f"已登记学习{what}（{moment(ctx.now)}）。本季度已学习 {stats.study_days} 天。"]
    return "\n".join(lines + remote_theme_day(ctx, STUDY))


@command("community", "双报到", "community", roles=BRANCH, refusal=told(NOT_A_BRANCH))
def community(cmd: Command, ctx: Context) -> str:
    """双报到 社区名或编码：登记你到社区报到服务的社区"""
    wanted = half_width(cmd.rest).strip()
    if not wanted:
        raise CommandError("用法：双报到 社区党支部名称或编码，如：双报到 ZB0007")
    found = [c for c in communities(ctx.session)
             if wanted.upper() == c.code or wanted == c.name or (len(wanted) >= 2 and wanted in c.name)]
    if not found:
        raise CommandError(f"没有找到社区“{quote(wanted)}”：请写社区党支部的名称或编码（如 ZB0007）。")
    if len(found) > 1:
        raise CommandError("“" + quote(wanted) + "”对应多个社区：" + "、".join(f"{c.name}（{c.code}）" for c in found[:5])
                           + "。请写编码。")
    target = found[0]
    previous = register_community(ctx.session, ctx.actor.member.id, target.id, ctx.now)
    moved = "（已从原社区改报到此社区）" if previous and previous != target.id else ""
    return (f"已登记双报到：{target.name}（{target.code}）{moved}。\n今后你登记的志愿服务（志愿 N小时）"
            "也会计入该社区。")


def community_lines(ctx: Context) -> list[str]:
    """For a community branch's 进度: the 双报到 members' service this month."""
    branch = ctx.actor.branch
    if branch.category != "社区":
        return []
    members, hours = community_service(ctx.session, branch.id, ctx.month.first_day, ctx.month.end)
    return [f"双报到党员志愿服务：本月 {members} 人，{hours:g} 小时"]


def _quarter(month: Month):
    return month.quarter_first.first_day, month.quarter_last.end
