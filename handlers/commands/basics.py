"""帮助, 我的, and the friendly answer to anything unknown."""
from __future__ import annotations

from handlers.context import COMMITTEE, MEMBER, ORG_ADMIN, REPORTER, Context
from handlers.parse import Command

COMMON = ["任务 — 本支部本月任务", "提醒单 [2027-03] — 本月重点工作提醒单",
          "签到 [说明] — 流动党员报到（也可发送位置）", "我的 — 查看我的身份"]
REPORTING = ["完成 N [说明] — 上报第N项已完成，如：完成 2 已开会，到会9人",
             "更正 N 说明 — 更正已上报的内容（原记录保留）",
             "会议 支委会 2027-03-05 出席 7/9 [说明] — 记录三会一课",
             "进度 — 本支部本月完成情况"]
STAFF = ["进度 [N] — 下属支部完成情况", "发布 标题 截止 YYYY-MM-DD [对象 全部/农村,社区/ZB0001] [内容]",
         "催办 N — 提醒未上报第N项的支部", "通报 YYYY-MM — 月度通报"]
ADMIN_ONLY = ["退回 N 支部编码 原因 — 退回上报，要求重做"]


def help_text(kind: str) -> str:
    lines = {MEMBER: COMMON, REPORTER: REPORTING + COMMON,
             COMMITTEE: STAFF + COMMON[3:], ORG_ADMIN: STAFF + ADMIN_ONLY + COMMON[3:]}[kind]
    return "支部通可以这样用：\n" + "\n".join(f"· {line}" for line in lines)


def help(cmd: Command, ctx: Context) -> str:
    """帮助：我能做什么"""
    return help_text(ctx.actor.kind)


def unknown(cmd: Command, ctx: Context) -> str:
    """没听懂时的简短帮助"""
    return f"没听懂“{cmd.rest[:20]}”。\n" + help_text(ctx.actor.kind)


def whoami(cmd: Command, ctx: Context) -> str:
    """我的：我是谁、哪个支部、什么职务"""
    m, unit = ctx.actor.member, ctx.actor.unit
    lines = [f"你是 {m.name}（{m.role}，{m.status}）", f"所在组织：{unit.name}（{unit.code}）"]
    if m.is_mobile:
        lines.append(f"流动党员，流入地：{m.outflow_city or '未填'}")
    if ctx.actor.is_staff:
        lines.append(f"可查看下属 {len(ctx.scope)} 个支部")
    return "\n".join(lines)
