"""The org department's registers in chat (issue 14): 发展 (a branch keeps
its membership-development register), 整顿 (staff flag a branch 软弱涣散
and lift the flag with a note) and 整改 (staff give a branch rectification
items and close them). The workbench's forms call the functions below —
flag_branch, lift_branch_flag, add_rectification_item,
close_rectification_item — with the same checks, messages and audit rows."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime

from sqlalchemy.orm import Session

from handlers.context import REPORTERS, STAFF, Actor, CommandError, Context
from handlers.limits import NOTE, REASON, TITLE
from handlers.parse import Command, day_arg, half_width
from handlers.registry import cannot, command
from handlers.render import day, fit, quote, task_label
from storage import audit
from storage.audit import CHAT, Origin
from storage.development import STEP_FIELDS, dates_of, find, records_of, save_dates, stage_of
from storage.importers.development_check import order_problem, step_named, unknown_step
from storage.models import Organization, RectificationItem, Task
from storage.month import Month
from storage.outbox import enqueue, to_branch
from storage.rectification import Item, add_item, close, flag, item_by_task, lift, open_flag
from storage.tasks import REPORTED, find_task, state_of

DEVELOP_USAGE = "用法：发展 姓名 阶段 日期，如：发展 张三 积极分子 2027-03-01（阶段：申请、谈话、积极分子、发展对象、预备、转正）"
FLAG_USAGE = "用法：整顿 支部编码 原因，如：整顿 ZB0007 班子软弱；解除：整顿 ZB0007 解除 说明"
ITEM_USAGE = ("用法：整改 支部编码 事项 截止 YYYY-MM-DD，如：整改 ZB0007 配齐支部书记 截止 2027-06-30；"
              "销号：整改 ZB0007 销号 3月第2项 说明")
EVIDENCE = "整改佐证材料（照片或文件）"
LIFT_WORDS = ("解除", "取消", "撤销")
CLOSE_WORDS = ("销号", "关闭")
_ITEM = re.compile(r"^(?P<title>.+?)\s*截止(?:日期)?\s*[:：]?\s*(?P<date>\S+)\s*$", re.S)
_REF = re.compile(r"^(?:第?(?P<month>[0-9]{1,2})月)?第?(?P<number>[0-9]{1,3})项?$")


# ---- 发展 ---------------------------------------------------------------

@command("develop", "发展", "develop", roles=REPORTERS, refusal=cannot("登记发展党员（书记、副书记和支委可以）"))
def develop(cmd: Command, ctx: Context) -> str:
    """发展 [姓名 阶段 日期]：登记发展党员的阶段，如：发展 张三 积极分子 2027-03-01；只发“发展”看名单"""
    branch = ctx.actor.branch
    parts = cmd.rest.split()
    if not parts:
        return register_text(ctx.session, branch, ctx.now.date())
    if len(parts) != 3:
        raise CommandError(DEVELOP_USAGE)
    name, stage_text, day_text = parts
    if len(name) > 64:
        raise CommandError("姓名太长（最多64字）。")
    step = step_named(half_width(stage_text))
    if step is None:
        raise CommandError(f"{unknown_step(stage_text)}。\n{DEVELOP_USAGE}")
    when = day_arg(day_text, "日期")
    record = find(ctx.session, branch.id, name)
    dates = dates_of(record) if record else dict.fromkeys(STEP_FIELDS)
    old = dates[step]
    dates[step] = when
    bad = order_problem(dates, ctx.now.date())
    if bad:
        raise CommandError(f"未登记：{name}{bad}。")
    save_dates(ctx.session, branch.id, name, {step: when}, ctx.now)
    was = f"（原为 {old}）" if old and old != when else ""
    # The register keeps the latest date of a step; the audit log keeps who changed it, when, from what.
    audit.record(ctx.session, ctx.now, Origin(CHAT), "develop", f"{branch.code} {name}", f"{step} {when}{was}",
                 ctx.actor.member, branch)
    return f"已登记：{branch.name} {name} {step} {when}{was}（登记人 {ctx.actor.member.name}）。"


def register_text(session: Session, branch: Organization, today: date) -> str:
    records = records_of(session, [branch.id])
    if not records:
        return f"{branch.name}发展党员名单为空。\n{DEVELOP_USAGE}"
    lines = [f"{branch.name}发展党员名单（{len(records)}人）："]
    for r in records:
        steps = "，".join(f"{step} {d}" for step, d in dates_of(r).items() if d)
        lines.append(f"{r.name}：{stage_of(r) or '—'}（{steps}）")
    lines.append(DEVELOP_USAGE)
    return fit("\n".join(lines))


# ---- 整顿 ---------------------------------------------------------------

def _branch_in_scope(ctx: Context, code: str) -> Organization:
    branch = next((b for b in ctx.scope if code.upper() in (b.code.upper(), b.name)), None)
    if branch is None:
        raise CommandError(f"没有找到支部“{quote(code)}”（或不在你的管辖范围内），请用支部编码，如 ZB0007。")
    return branch


def flag_branch(session: Session, actor: Actor, branch: Organization, reason: str, now: datetime,
                origin: Origin) -> None:
    """Mark `branch` 软弱涣散: the one rule for 整顿 in chat and on the workbench."""
    reason = REASON.check(reason.strip())
    if not reason:
        raise CommandError("请写明整顿原因，如：整顿 ZB0007 班子软弱、组织生活不正常")
    if open_flag(session, branch.id) is not None:
        raise CommandError(f"{branch.name}已列为软弱涣散党组织，正在整顿中。")
    flag(session, branch.id, reason, actor.member.id, now)
    audit.record(session, now, origin, "rectify-flag", f"{branch.code} {branch.name}", reason,
                 actor.member, actor.unit)


def lift_branch_flag(session: Session, actor: Actor, branch: Organization, note: str, now: datetime,
                     origin: Origin) -> None:
    """Lift the flag with a note: the one rule in chat and on the workbench."""
    note = NOTE.check(note.strip())
    if not note:
        raise CommandError("请写明解除整顿的说明，如：整顿 ZB0007 解除 班子已配齐，整改事项均已销号")
    row = open_flag(session, branch.id)
    if row is None:
        raise CommandError(f"{branch.name}没有处于整顿中，无需解除。")
    lift(row, note, actor.member.id, now)
    audit.record(session, now, origin, "rectify-lift", f"{branch.code} {branch.name}", note,
                 actor.member, actor.unit)


def _branch_and_rest(cmd: Command, ctx: Context, usage: str) -> tuple[Organization, str]:
    """`支部编码 …`: the branch (in the sender's scope) and what follows it."""
    parts = cmd.rest.split(maxsplit=1)
    if len(parts) < 2:
        raise CommandError(usage)
    return _branch_in_scope(ctx, parts[0]), parts[1]


@command("rectify", "整顿", "rectify", roles=STAFF, refusal=cannot("列整顿（组织部和党委可以）"))
def rectify(cmd: Command, ctx: Context) -> str:
    """整顿 支部编码 原因：列为软弱涣散党组织；整顿 支部编码 解除 说明：解除"""
    branch, rest = _branch_and_rest(cmd, ctx, FLAG_USAGE)
    words = rest.split(maxsplit=1)
    if words[0] in LIFT_WORDS:
        lift_branch_flag(ctx.session, ctx.actor, branch, words[1] if len(words) > 1 else "", ctx.now, Origin(CHAT))
        return f"已解除{branch.name}（{branch.code}）的整顿。"
    flag_branch(ctx.session, ctx.actor, branch, rest, ctx.now, Origin(CHAT))
    return (f"已将{branch.name}（{branch.code}）列为软弱涣散党组织，原因：{rest.strip()}。\n"
            f"整改事项：整改 {branch.code} 事项 截止 YYYY-MM-DD")


# ---- 整改 ---------------------------------------------------------------

def add_rectification_item(session: Session, actor: Actor, branch: Organization, title: str, deadline: date,
                           now: datetime, origin: Origin) -> Item:
    """A rectification item for `branch`, told to its group: the one rule
    for 整改 in chat and on the workbench."""
    title = TITLE.check(title.strip())
    if not title:
        raise CommandError(ITEM_USAGE)
    if deadline < now.date():
        raise CommandError(f"截止日期 {deadline} 已经过去，请填今天或以后的日期。")
    month = Month.of(now.date())
    item = add_item(session, branch, f"整改：{title}", deadline, issuer=actor.unit.name,
                    issuer_org_id=actor.unit.id, member_id=actor.member.id,
                    natural_key=f"rectification:{branch.code}:{uuid.uuid4().hex}", evidence=EVIDENCE,
                    month=str(month), now=now)
    label = task_label(item.task)
    body = (f"**整改事项：{label}「{item.task.title}」**\n{actor.unit.name}交办，截止{day(deadline, now.date())}。"
            f"\n完成后请回复：完成 {label} 说明，并在10分钟内单聊发送{EVIDENCE}。此项由组织部销号后才从清单移除。")
    enqueue(session, [to_branch(branch, "rectification-item", f"task-{item.task.id}", body)], now)
    audit.record(session, now, origin, "rectify-item", f"{branch.code} {branch.name}",
                 f"{label} {item.task.title}，截止 {deadline}", actor.member, actor.unit)
    return item


def close_rectification_item(session: Session, actor: Actor, branch: Organization, task: Task, note: str,
                             now: datetime, origin: Origin) -> RectificationItem:
    """Close (销号) an item the branch has reported: the one rule in chat and
    on the workbench."""
    note = NOTE.check(note.strip())
    item = item_by_task(session, task.id)
    label = task_label(task)
    if item is None or item.branch_id != branch.id:
        raise CommandError(f"{label}不是{branch.name}的整改事项。")
    if item.closed_at is not None:
        raise CommandError(f"{label}已于 {item.closed_at:%Y-%m-%d} 销号。")
    if state_of(session, task, branch) != REPORTED:
        raise CommandError(f"{branch.name}还没有上报{label}「{task.title}」，不能销号（可先催办）。")
    close(item, note, actor.member.id, now)
    enqueue(session, [to_branch(branch, "rectification-closed", f"task-{task.id}",
                                f"**整改事项已销号：{label}「{task.title}」**" + (f"\n说明：{note}" if note else ""))],
            now)
    audit.record(session, now, origin, "rectify-close", f"{branch.code} {branch.name}",
                 f"{label} {task.title}" + (f"：{note}" if note else ""), actor.member, actor.unit)
    return item


def _item_ref(text: str, today: date) -> tuple[Month, int]:
    match = _REF.match(half_width(text).strip())
    if not match or (match.group("month") and not 1 <= int(match.group("month")) <= 12):
        raise CommandError(f"没看懂“{quote(text)}”是哪一项，请写如 3月第2项。\n{ITEM_USAGE}")
    month = Month.referred(int(match.group("month")), today) if match.group("month") else Month.of(today)
    return month, int(match.group("number"))


@command("rectification", "整改", "rectification", roles=STAFF, refusal=cannot("交办整改事项（组织部和党委可以）"))
def rectification(cmd: Command, ctx: Context) -> str:
    """整改 支部编码 事项 截止 YYYY-MM-DD：交办整改事项；整改 支部编码 销号 3月第2项 说明：销号"""
    branch, rest = _branch_and_rest(cmd, ctx, ITEM_USAGE)
    words = rest.split(maxsplit=2)
    if words[0] in CLOSE_WORDS:
        if len(words) < 2:
            raise CommandError(ITEM_USAGE)
        month, number = _item_ref(words[1], ctx.now.date())
        task = find_task(ctx.session, month, number)
        if task is None:
            raise CommandError(f"没有{month.item_label(number)}。")
        close_rectification_item(ctx.session, ctx.actor, branch, task, words[2] if len(words) > 2 else "",
                                 ctx.now, Origin(CHAT))
        return f"已销号：{branch.name} {task_label(task)}「{task.title}」。"
    match = _ITEM.match(rest.strip())
    if not match:
        raise CommandError(ITEM_USAGE)
    deadline = day_arg(match.group("date"), "截止日期")
    item = add_rectification_item(ctx.session, ctx.actor, branch, match.group("title"), deadline, ctx.now,
                                  Origin(CHAT))
    return (f"已交办{branch.name}整改事项 {task_label(item.task)}「{item.task.title}」，截止{day(deadline, ctx.now.date())}，"
            "已通知该支部群。支部上报后，请核实并销号：" f"整改 {branch.code} 销号 {task_label(item.task)} 说明")
