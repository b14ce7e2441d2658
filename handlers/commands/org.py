"""The org department's and committees' loop: 进度 across branches, 催办,
退回. Everyone sees only the branches under them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from handlers.context import ORG_ADMIN, STAFF, Actor, CommandError, Context
from handlers.limits import REASON
from handlers.parse import Command, need_number
from handlers.registry import cannot, command
from handlers.render import backfill_words, day, fit, moment, quote
from storage import audit
from storage.audit import CHAT, Origin
from storage.meetings import backfilled_duties
from storage.models import Organization, Report, Task
from storage.month import Month
from storage.orgs import targets
from storage.outbox import enqueue, to_branch
from storage.reports import current_report, return_report
from storage.tasks import ACKNOWLEDGED, OPEN, REPORTED, RETURNED, TaskBook, find_task, state_of

STATE_NAMES = {REPORTED: "已上报", RETURNED: "被退回", ACKNOWLEDGED: "已收到", OPEN: "未上报"}


def _staff_task(cmd: Command, ctx: Context, usage: str) -> tuple[Task, list[Organization]]:
    """The task named, and the branches under this actor it is aimed at. A
    task aimed at none of them is refused before its title is shown: a
    committee learns nothing of another subtree's tasks by number."""
    number = need_number(cmd, usage)
    month = ctx.month_named(cmd.month)
    task = find_task(ctx.session, month, number)
    if task is None:
        raise CommandError(f"没有{month.item_label(number)}任务。发送“进度”查看。")
    aimed = [b for b in ctx.scope if targets(task, b)]
    if not aimed:
        raise CommandError(f"{month.item_label(number, ctx.month)}不涉及你下属的支部。")
    return task, aimed


@command("progress", roles=STAFF)  # a branch's 进度 is tasks.progress
def progress_of_branches(cmd: Command, ctx: Context) -> str:
    """进度 [N]：下属支部本月完成情况（慢的在前），加 N 看第N项"""
    if cmd.number is not None or cmd.problem:  # 进度 1,2 is refused, not read as 进度
        return progress_of_task(cmd, ctx)
    today, book = ctx.now.date(), TaskBook(ctx.session, ctx.month, ctx.scope)
    rows = []
    for branch in ctx.scope:
        mine = book.this_month(branch)
        done = sum(bt.state == REPORTED for bt in mine)
        overdue = sum(bt.overdue(today) for bt in mine)
        rows.append((done / len(mine) if mine else 1.0, -overdue, branch, done, len(mine), overdue))
    rows.sort(key=lambda r: (r[0], r[1], r[2].code))
    total_done, total = sum(r[3] for r in rows), sum(r[4] for r in rows)
    lines = [f"{ctx.actor.unit.name}：{ctx.month.label}共 {len(rows)} 个支部，"
             f"完成 {total_done}/{total} 项"]
    for _, _, branch, done, count, overdue in rows:
        late = f"，逾期{overdue}" if overdue else ""
        lines.append(f"{branch.name}（{branch.code}）{done}/{count}{late}")
    return fit("\n".join(lines))


def progress_of_task(cmd: Command, ctx: Context) -> str:
    """进度 N：第N项在下属各支部的完成情况，未完成的在前"""
    task, aimed = _staff_task(cmd, ctx, "进度 N")
    book = TaskBook(ctx.session, Month.iso(task.month), aimed)
    today = ctx.now.date()
    states = [(b, book.of(task, b)) for b in aimed]
    overdue = task.deadline < today
    counts = {s: sum(1 for _, bt in states if bt.shown_state == s) for s in (REPORTED, RETURNED, ACKNOWLEDGED, OPEN)}
    lines = [f"第{task.number}项「{task.title}」截止{day(task.deadline, today)}",
             f"已上报 {counts[REPORTED]}，被退回 {counts[RETURNED]}，"
             + (f"已收到 {counts[ACKNOWLEDGED]}，" if counts[ACKNOWLEDGED] else "") + f"未上报 {counts[OPEN]}"
             + ("（已逾期）" if overdue and counts[OPEN] + counts[RETURNED] + counts[ACKNOWLEDGED] else "")]
    order = {OPEN: 0, ACKNOWLEDGED: 1, RETURNED: 2, REPORTED: 3}
    # A duty done by a meeting logged days after it was held: 补记录 here too.
    late = backfilled_duties(ctx.session, [task.id], [b.id for b in aimed] if len(aimed) < 500 else None) \
        if task.duty else {}
    for branch, bt in sorted(states, key=lambda x: (order[x[1].shown_state], x[0].code)):
        extra = f"（收到 {moment(bt.acknowledged_at)}）" if bt.shown_state == ACKNOWLEDGED else ""
        meeting = late.get((task.id, branch.id)) if bt.state == REPORTED else None
        extra += f"（{backfill_words(meeting)}）" if meeting else ""
        extra += f"（延期至{day(bt.own_deadline, today)}）" if bt.own_deadline else ""
        lines.append(f"{branch.name}（{branch.code}）：{STATE_NAMES[bt.shown_state]}{extra}")
    return fit("\n".join(lines))


def chase_branches(session: Session, actor: Actor, task: Task, aimed: list[Organization], now: datetime,
                   origin: Origin) -> tuple[list[Organization], int]:
    """Re-remind the branches of `aimed` that have not reported `task`: the
    one rule for 催办 in chat and on the workbench. Each branch's group gets
    it, and its secretary (the deputy where there is none) 1:1 as a card
    (收到 / 已完成 / 申请延期). (branches chased, rows newly queued) — a
    second chase the same day queues nothing new."""
    book = TaskBook(session, Month.iso(task.month), aimed)
    late = [b for b in aimed if targets(task, b) and book.state_of(task, b) != REPORTED]
    if not late:
        return [], 0
    body = (f"**催办：第{task.number}项「{task.title}」**\n截止{day(task.deadline, now.date())}，本支部尚未上报。"
            f"\n完成后请回复：完成 {task.number} 说明")
    today = now.date().isoformat()
    messages = [to_branch(b, f"chase-{task.id}", today, body) for b in late]
    from handlers.commands.cards import secretary_of, task_card  # the secretary gets it 1:1, as a card
    for branch in late:
        if (person := secretary_of(session, branch)) is not None:
            messages.append(task_card(session, task, branch, person, "chase", "催办", f"chase-{task.id}", today, now))
    new = enqueue(session, messages, now)
    audit.record(session, now, origin, "chase", f"{Month.iso(task.month).item_label(task.number)} {task.title}",
                 f"{len(late)} 个支部：{'、'.join(b.code for b in late)}" + ("" if new else "（今天已催办过，未重复发送）"),
                 actor.member, actor.unit)
    return late, new


def return_branch_report(session: Session, actor: Actor, task: Task, branch: Organization, reason: str,
                         now: datetime, origin: Origin) -> Report:
    """Return a branch's current report of `task` for rework and tell its
    group: the one rule for 退回 in chat and on the workbench. The report it
    returned; CommandError when there is nothing to return."""
    reason = REASON.check(reason.strip())
    if not reason:
        raise CommandError("请写明退回原因，如：缺少会议照片")
    report = current_report(session, task, branch)
    if report is None or state_of(session, task, branch) != REPORTED:
        raise CommandError(f"{branch.name}还没有上报第{task.number}项，无需退回。")
    return_report(session, task, branch, reason, now)
    body = (f"**退回：第{task.number}项「{task.title}」**\n原因：{reason}\n"
            f"请补充后重新回复：完成 {task.number} 说明")
    enqueue(session, [to_branch(branch, f"return-{task.id}", now.strftime("%Y%m%d%H%M%S"), body)], now)
    audit.record(session, now, origin, "return", f"{Month.iso(task.month).item_label(task.number)} {task.title}",
                 f"{branch.code} {branch.name}：{reason}", actor.member, actor.unit)
    return report


@command("chase", "催办", "chase", roles=STAFF, refusal=cannot("催办（组织部和党委可以）"))
def chase(cmd: Command, ctx: Context) -> str:
    """催办 N：提醒未上报第N项的支部（每天至多一次）"""
    task, aimed = _staff_task(cmd, ctx, "催办 N")
    late, new = chase_branches(ctx.session, ctx.actor, task, aimed, ctx.now, Origin(CHAT))
    if not late:
        return f"第{task.number}项「{task.title}」各支部都已上报，无需催办。"
    names = "、".join(b.name for b in late)
    already = "" if new else "（今天已催办过，不再重复发送）"
    return fit(f"第{task.number}项已催办 {len(late)} 个支部{already}：{names}")


@command("return", "退回", "return", roles=(ORG_ADMIN,), refusal=cannot("退回上报（组织部可以）"))
def return_for_rework(cmd: Command, ctx: Context) -> str:
    """退回 N 支部编码 原因：退回上报，要求重做，如：退回 2 ZB0007 缺少会议照片"""
    task, aimed = _staff_task(cmd, ctx, "退回 N 支部编码 原因，如：退回 2 ZB0007 缺少会议照片")
    parts = cmd.note.split(maxsplit=1)
    if len(parts) < 2:
        raise CommandError("请写明支部和原因，如：退回 2 ZB0007 缺少会议照片")
    who, reason = parts
    REASON.check(reason)
    branch = next((b for b in ctx.scope if who in (b.code, b.name)), None)
    if branch is None:
        raise CommandError(f"没有找到支部“{quote(who)}”（请用支部编码，如 ZB0007）。")
    if branch not in aimed:
        raise CommandError(f"第{task.number}项不涉及{branch.name}，无需退回。")
    report = return_branch_report(ctx.session, ctx.actor, task, branch, reason, ctx.now, Origin(CHAT))
    return (f"已退回{branch.name}第{task.number}项（原上报于 {moment(report.received_at)}），"
            f"原因：{reason}。已通知该支部群。")
