"""任务, 提醒单, 进度: what a branch owes, and how the branches under a
committee are doing."""
from __future__ import annotations


from handlers.context import BRANCH, NOT_A_BRANCH, CommandError, Context
from handlers.parse import Command, parse_month
from handlers.registry import command, told
from handlers.render import backfill_words, day, fit, moment, task_label
from handlers.render.sheet import render_sheet
from storage.meetings import LateMeeting, backfilled_duties, mobile_not_checked_in
from storage.tasks import ACKNOWLEDGED, OPEN, REPORTED, RETURNED, BranchTask, TaskBook, branch_tasks

STATE_NAMES = {OPEN: "未完成", REPORTED: "已上报", RETURNED: "被退回", ACKNOWLEDGED: "已收到"}


def _state(bt: BranchTask, late: dict[int, LateMeeting] | None = None) -> str:
    """已收到 with its time; a duty done by a back-filled meeting with its
    补记录 mark; the others by name."""
    if bt.shown_state == ACKNOWLEDGED:
        return f"已收到（{moment(bt.acknowledged_at)}）"
    if bt.state == REPORTED and late:
        found = late.get(bt.task.id)
        if found:
            return f"已上报（{backfill_words(found)}）"
    return STATE_NAMES[bt.state]


def late_duties(ctx: Context, branch, tasks: list[BranchTask]) -> dict[int, LateMeeting]:
    """task id → the back-filled meeting that is this branch's report of it."""
    found = backfilled_duties(ctx.session, [bt.task.id for bt in tasks if bt.state == REPORTED], [branch.id])
    return {task_id: meeting for (task_id, _branch), meeting in found.items()}


@command("tasks", "任务", "tasks", "task", roles=BRANCH, refusal=told(NOT_A_BRANCH))
def tasks(cmd: Command, ctx: Context) -> str:
    """任务：本支部本月任务"""
    branch = ctx.actor.branch
    book = TaskBook(ctx.session, ctx.month, [branch])
    mine, owed = book.this_month(branch), book.owed(branch)
    today = ctx.now.date()
    late = late_duties(ctx, branch, mine)
    lines = [f"{branch.name} {ctx.month.label}任务："]
    for bt in mine:
        flag = "（已逾期）" if bt.overdue(today) else ""
        lines.append(f"{bt.task.number}. {bt.task.title}｜截止{day(bt.deadline, today)}｜"
                     f"{_state(bt, late)}{flag}")
    if not mine:
        lines.append("本月暂无任务。")
    for bt in owed:
        lines.append(f"{task_label(bt.task)} {bt.task.title}｜"
                     f"截止{day(bt.deadline, today)}｜{_state(bt)}")
    items = book.rectification(branch)
    if items:
        lines.append("整改事项（销号前一直保留）：")
    for bt in items:
        flag = "（已逾期）" if bt.overdue(today) else ""
        state = "已上报，待销号" if bt.state == REPORTED else _state(bt)
        lines.append(f"{task_label(bt.task, ctx.month)} {bt.task.title}｜截止{day(bt.deadline, today)}｜"
                     f"{state}{flag}")
    lines.append("上报：完成 N 说明")
    return fit("\n".join(lines))


@command("sheet", "提醒单", "sheet", roles=BRANCH, refusal=told(NOT_A_BRANCH))
def sheet(cmd: Command, ctx: Context) -> str:
    """提醒单 [2027-03]：本支部的重点工作提醒单"""
    month = parse_month(cmd.rest) if cmd.rest else ctx.month
    if month is None:
        raise CommandError("用法：提醒单 2027-03（年-月）")
    branch = ctx.actor.branch
    book = TaskBook(ctx.session, month, [branch])
    missing = [p.name for p in mobile_not_checked_in(ctx.session, branch.id, month)]
    text = render_sheet(branch.name, month, book.this_month(branch), book.owed(branch), ctx.now.date(), missing,
                        book.rectification(branch))
    return fit(text.replace("**", ""))


@command("progress", "进度", "progress", roles=BRANCH)  # staff: org.progress_of_branches
def progress(cmd: Command, ctx: Context) -> str:
    """进度：本支部本月完成情况"""
    branch = ctx.actor.branch
    mine = branch_tasks(ctx.session, branch, ctx.month)
    done = sum(bt.state == REPORTED for bt in mine)
    lines = [f"{branch.name} {ctx.month.label}：已完成 {done}/{len(mine)} 项"]
    today = ctx.now.date()
    lines += [f"{bt.task.number}. {bt.task.title}：{_state(bt)}"
              f"{'（已逾期）' if bt.overdue(today) else ''}" for bt in mine if bt.state != REPORTED]
    late = late_duties(ctx, branch, mine)
    lines += [f"{bt.task.number}. {bt.task.title}：{_state(bt, late)}" for bt in mine if bt.task.id in late]
    from handlers.commands.record import community_lines  # 双报到 service, for a community branch
    lines += community_lines(ctx)
    return fit("\n".join(lines))
