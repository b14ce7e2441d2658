"""通报: the monthly bulletin as a markdown message (pure rendering), and the
chat command that shows it to staff."""
from __future__ import annotations


from handlers.context import STAFF, CommandError, Context
from handlers.parse import Command, normalise, parse_month
from handlers.registry import cannot, command
from handlers.pushes import to_branch
from handlers.render import fit
from storage.bulletin import Bulletin, build_bulletin
from storage.outbox import enqueue

SHOWN = 10


def render_bulletin(b: Bulletin, issuer: str) -> str:
    lines = [f"**{issuer}关于{b.month.label}基层党建重点工作完成情况的通报**", "",
             "**按时完成率（前{}名）**".format(min(SHOWN, len(b.branches)))]
    lines += [f"{i}. {s.branch.name}：按时完成 {s.on_time}/{s.due}" for i, s in enumerate(b.branches[:SHOWN], 1)]
    if b.committees:
        lines += ["", "**各党委（党工委）按时完成率**"]
        lines += [f"- {c.name}：{on_time}/{due}" for c, on_time, due in b.committees]
    overdue = [s for s in b.branches if s.overdue]
    lines += ["", f"**有逾期未完成任务的支部（{len(overdue)} 个）**"]
    lines += [f"- {s.branch.name}：{'、'.join(s.overdue)}" for s in overdue[:SHOWN]] or ["无"]
    if len(overdue) > SHOWN:
        lines.append(f"……另有 {len(overdue) - SHOWN} 个支部，详见附表")
    missed = [s for s in b.branches if s.missing_meetings]
    lines += ["", f"**“三会一课”未达要求的支部（{len(missed)} 个）**"]
    lines += [f"- {s.branch.name}：缺{'、'.join(s.missing_meetings)}" for s in missed[:SHOWN]] or ["无"]
    lines += ["", f"**本月未报到的流动党员：{len(b.not_checked_in)} 人**"]
    lines += [f"- {org.name}：{m.name}" for m, org in b.not_checked_in[:SHOWN]]
    lines += ["", f"**零积分人员（流动党员和支委）：{len(b.zero_point)} 人，请各支部跟进联系。**"]
    return "\n".join(lines)


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
        rows = [r for b in ctx.scope for r in to_branch(b, "bulletin", str(month), body)]
        new = enqueue(ctx.session, rows, ctx.now)
        return f"{month.label}通报已安排发送到 {len(ctx.scope)} 个支部群" + ("" if new else "（此前已发送）") + "。"
    return fit(body.replace("**", ""))
