"""帮助, 我的, 版本, and the friendly answer to anything unknown. Help is built
from the registry: each role sees the commands it may use, in table order."""
from __future__ import annotations

from handlers import __version__
from handlers.context import Context
from handlers.parse import Command
from handlers.registry import REGISTRY, command
from storage.db import schema_version
from storage.people import member_stats
from storage.points import points


def help_text(kind: str) -> str:
    return "支部通可以这样用：\n" + "\n".join(f"· {line}" for line in REGISTRY.help_lines(kind))


@command("help", "帮助", "help", "菜单", "?", listed=False)  # no need to list itself
def help(cmd: Command, ctx: Context) -> str:
    """帮助：我能做什么"""
    return help_text(ctx.actor.kind)


def unknown(cmd: Command, ctx: Context) -> str:
    """没听懂时的简短帮助（没有命令词：dispatch 直接调用）"""
    return f"没听懂“{cmd.rest[:20]}”。\n" + help_text(ctx.actor.kind)


@command("whoami", "我的", "我是谁", "whoami", "me")
def whoami(cmd: Command, ctx: Context) -> str:
    """我的：查看我的身份和本季度记录（会议、主题党日、签到、志愿、学习、积分）"""
    m, unit = ctx.actor.member, ctx.actor.unit
    lines = [f"你是 {m.name}（{m.role}，{m.status}）", f"所在组织：{unit.name}（{unit.code}）"]
    if m.is_mobile:
        lines.append(f"流动党员，流入地：{m.inflow_city or '未填'}")
    quarter = ctx.month.quarter_first
    s = member_stats(ctx.session, quarter.first_day, quarter.quarter_last.end, [m.id])[m.id]
    proxy = f"（其中代签 {s.proxy_checkins} 天）" if s.proxy_checkins else ""
    lines += [f"本季度（{quarter.year}年第{quarter.quarter}季度）：",
              f"会议：出席 {s.attended} 次 / 应参加 {s.held} 次",
              f"主题党日：参加 {s.theme_attended} 次 / 共 {s.theme_held} 次"
              + (f"，远程参加 {s.theme_remote} 次" if s.theme_remote else ""),
              f"签到：{s.checkin_days} 天{proxy}",
              f"志愿：{s.volunteer_hours:g} 小时",
              f"学习：{s.study_days} 天",
              f"积分：{points(s)} 分"]
    if ctx.actor.is_staff:
        lines.append(f"可查看下属 {len(ctx.scope)} 个支部")
    return "\n".join(lines)


@command("version", "版本", "version")
def version(cmd: Command, ctx: Context) -> str:
    """版本：支部通和数据库结构的版本"""
    return f"支部通 {__version__}\n数据库结构版本 {schema_version(ctx.session.get_bind()) or '未初始化'}"
