"""The org department's and committees' view: completion across branches."""
from __future__ import annotations

from handlers.context import Context
from handlers.parse import Command
from handlers.render import fit, month_label
from storage.tasks import REPORTED, branch_tasks


def progress_of_branches(cmd: Command, ctx: Context) -> str:
    """进度：下属各支部本月完成情况，完成率低的在前"""
    today = ctx.now.date()
    rows = []
    for branch in ctx.scope:
        mine = branch_tasks(ctx.session, branch, ctx.month)
        done = sum(bt.status == REPORTED for bt in mine)
        overdue = sum(bt.overdue(today) for bt in mine)
        rows.append((done / len(mine) if mine else 1.0, -overdue, branch, done, len(mine), overdue))
    rows.sort(key=lambda r: (r[0], r[1], r[2].code))
    total_done, total = sum(r[3] for r in rows), sum(r[4] for r in rows)
    lines = [f"{ctx.actor.unit.name}：{month_label(ctx.month)}共 {len(rows)} 个支部，"
             f"完成 {total_done}/{total} 项"]
    for rate, _, branch, done, count, overdue in rows:
        late = f"，逾期{overdue}" if overdue else ""
        lines.append(f"{branch.name}（{branch.code}）{done}/{count}{late}")
    return fit("\n".join(lines))
