"""通报: the chat command that shows the monthly bulletin to staff (the text
itself: handlers/render/bulletin.py)."""
from __future__ import annotations


from handlers.context import STAFF, CommandError, Context
from handlers.parse import Command, normalise, parse_month
from handlers.registry import cannot, command
from handlers.render import fit
from handlers.render.bulletin import render_bulletin
from storage.bulletin import build_bulletin
from storage.outbox import enqueue, to_branch


@command("bulletin", "通报", "bulletin", roles=STAFF, refusal=cannot("查看通报（组织部和党委可以）"))
def bulletin(cmd: Command, ctx: Context) -> str:
    """通报 YYYY-MM [发送]：月度通报（加“发送”则发到各支部群）"""
    text = normalise(cmd.rest)
    send = text.endswith("发送")
    text = text.removesuffix("发送").strip()
    month = parse_month(text) if text else ctx.month
    if month is None:
        raise CommandError("用法：通报 2027-03（加“发送”则发到各支部群：通报 2027-03 发送）")
    body = render_bulletin(build_bulletin(ctx.session, ctx.scope, month, ctx.now.date()), ctx.actor.unit.name)
    if send:
        rows = [to_branch(b, "bulletin", str(month), body) for b in ctx.scope]
        new = enqueue(ctx.session, rows, ctx.now)
        return f"{month.label}通报已安排发送到 {len(ctx.scope)} 个支部群" + ("" if new else "（此前已发送）") + "。"
    return fit(body.replace("**", ""))
