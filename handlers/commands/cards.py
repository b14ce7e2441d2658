"""One tap: the buttons of a template card (收到 / 已完成 / 申请延期 to a
branch's reporter; 同意 / 不同意 to the staff who published the task) and
the text commands that do the same for people who see no cards (the
WeChat plugin): 收到 N, 完成 N, 延期 N 7天 原因, 同意延期 编号, 不同意延期 编号.

A button carries "<action>:<card key>" and nothing else; the key is a card
row's random one (storage/cards.py). A click is acted on only when the key
is found, the clicker is the person the card was sent to, the action is one
that card has, and the clicker's role allows it — otherwise it is answered
politely and nothing is recorded. A click is answered by a message to the
clicker and by updating the clicked card (its one-use response_code)."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy.orm import Session

from handlers.context import ORG_ADMIN, REPORTERS, STAFF, Actor, CommandError, Context
from handlers.limits import REASON
from handlers.parse import Command, need_number
from handlers.registry import REGISTRY, cannot, command
from handlers.render import day, fit, moment, task_label, task_ref
from storage import audit
from storage.addresses import member_owner
from storage.audit import CHAT, Origin
from storage.cards import (DECISION_CARD, PENDING, TASK_CARD, acknowledge, card_by_key, decide_extension,
                           extension_by_id, mark_card, new_card, own_deadline, pending_extension,
                           recent_card_done, request_extension)
from storage.members import org_department_staff, reachable_members
from storage.models import ExtensionRequest, Member, Organization, Task
from storage.month import Month
from storage.outbox import CARD_UPDATE, CardBody, Message, enqueue, parse_button_key, to_branch, to_member, with_card
from storage.tasks import REPORTED, find_task, state_of, task_by_id

FORGED = "这个按钮已失效，或不是发给你的，未做任何记录。请发送“任务”查看本月任务。"
ACTIONS = {TASK_CARD: ("ack", "done", "ext", "d3", "d7"), DECISION_CARD: ("yes", "no")}
EXTENSION_DAYS = (3, 7)
MAX_DAYS = 30
SECRETARY_ROLES = (("书记",), ("副书记",))  # the secretary; the deputy where there is none
_DAYS = re.compile(r"^(?P<days>[0-9]{1,3})\s*(?:天|日|d|days?)?(?:\s+|[,，:：]|$)\s*(?P<reason>.*)$", re.S)
FOR_THE_BRANCH = cannot("为支部操作（只有书记、副书记和支委可以）")
DECIDES = cannot("审核延期申请（发布任务的组织部门工作人员可以）")


# ---- the cards ----------------------------------------------------------------

def secretary_of(session: Session, branch: Organization) -> Member | None:
    """Whom a branch's personal reminders go to: its secretary, else the deputy."""
    for roles in SECRETARY_ROLES:
        found = reachable_members(session, branch.id, roles)
        if found:
            return found[0]
    return None


def task_card(session: Session, task: Task, branch: Organization, person: Member, step: str, heading: str,
              purpose: str, period: str, now) -> Message:
    """A reminder to a branch's reporter as a card (收到 / 已完成 / 申请延期),
    with its text version for those who see no cards."""
    deadline = own_deadline(session, task, branch)
    today = now.date()
    ref = task_ref(task, today)
    key = new_card(session, person.wecom_userid, TASK_CARD, task, branch, step, now)
    text = (f"**{heading}：{task_label(task)}「{task.title}」**\n{branch.name}，截止{day(deadline, today)}，尚未上报。"
            + (f"\n本项需报：{task.evidence}" if task.evidence else "")
            + f"\n收到请回复：收到 {ref}\n完成后回复：完成 {ref} 说明\n需要延期请回复：延期 {ref} 7天 原因")
    card = CardBody(key, f"{heading}：{task.title}", f"{branch.name} · 截止{day(deadline, today)}",
                    rows=(("任务", f"{task_label(task)}"), ("截止", day(deadline, today)))
                    + ((("需报", task.evidence),) if task.evidence else ()),
                    buttons=(("收到", "ack"), ("已完成", "done"), ("申请延期", "ext")))
    return to_member(person, purpose, period, with_card(text, card))


def _update(ctx: Context, card: CardBody) -> list[Message]:
    """The update of the card this click came from (none without a response_code)."""
    code = ctx.inbound.response_code
    if not code or ctx.inbound.channel != "app":
        return []
    updated = CardBody(card.key, card.title, card.desc, card.rows, card.buttons, code, card.replace_name,
                       ctx.inbound.card_task or "")
    return [Message(member_owner(ctx.inbound.user), CARD_UPDATE, str(ctx.inbound_id), with_card("", updated))]


def click(cmd: Command, ctx: Context) -> str:
    """A button of one of our cards (template_card_event): see the module's doc."""
    parsed = parse_button_key(cmd.rest)
    card = card_by_key(ctx.session, parsed[1]) if parsed else None
    if card is None or card.recipient != ctx.inbound.user or parsed[0] not in ACTIONS.get(card.kind, ()):
        raise CommandError(FORGED)
    action = parsed[0]
    task = task_by_id(ctx.session, card.task_id)
    branch = ctx.session.get(Organization, card.branch_id)
    if card.kind == DECISION_CARD:
        request = extension_by_id(ctx.session, card.extension_id)
        reply, shown = decide(ctx, request, action == "yes", "")
        mark_card(card, action, ctx.now)
        enqueue(ctx.session, _update(ctx, CardBody(card.key, f"延期申请：{task.title}", replace_name=shown)), ctx.now)
        return reply
    REGISTRY.resolve("done", ctx.actor)  # only a branch's reporters act on its tasks
    if ctx.actor.branch.id != branch.id:
        raise CommandError(FORGED)
    mark_card(card, action, ctx.now)
    title, today = f"{task_label(task)}「{task.title}」", ctx.now.date()
    if action == "ack":
        reply = acknowledged(task, branch, ctx)
        at = moment(ctx.now)
        update = CardBody(card.key, f"已收到：{task.title}", f"{branch.name} · 收到于 {at}",
                          buttons=(("已完成", "done"), ("申请延期", "ext")))
    elif action == "done":
        if task.evidence and state_of(ctx.session, task, branch) != REPORTED:
            card.last_action = "done-wait"  # the photo or file that follows makes the report
            return (f"{title}需报：{task.evidence}。\n请在10分钟内单聊把照片或文件发给我，收到材料后即记为完成；"
                    f"也可回复：完成 {task_ref(task, today)} 说明，再发材料。")
        from handlers.commands.reports import report_task
        reply = report_task(task, "", ctx)
        update = CardBody(card.key, task.title, replace_name="已完成")
    elif action == "ext":
        if (found := pending_extension(ctx.session, task, branch)) is not None:
            return f"{title}已申请延期{found.days}天，正在等待审核。"
        reply = (f"申请延期{title}：请点“延期3天”或“延期7天”，\n或回复：延期 {task_ref(task, today)} 7天 原因")
        update = CardBody(card.key, f"申请延期：{task.title}", f"{branch.name} · 请选择延期天数",
                          buttons=(("延期3天", "d3"), ("延期7天", "d7"), ("已完成", "done")))
    else:  # d3 / d7
        reply = ask_extension(task, branch, int(action[1:]), "", ctx)
        update = CardBody(card.key, task.title, replace_name="已申请延期")
    enqueue(ctx.session, _update(ctx, update), ctx.now)
    return reply


def report_awaiting_evidence(cmd: Command, ctx: Context) -> str | None:
    """Photos or files after a card's 已完成 on a task that asks for evidence:
    the report, with them as its evidence; None if no such click is waiting."""
    card = recent_card_done(ctx.session, ctx.inbound.user, ctx.now)
    if card is None or ctx.actor.is_staff or ctx.actor.unit.id != card.branch_id:
        return None
    task = task_by_id(ctx.session, card.task_id)
    card.last_action = "done"
    from handlers.commands.reports import attach, report_task
    from storage.reports import recent_report_by
    reply = report_task(task, "", ctx)
    report = recent_report_by(ctx.session, ctx.actor.member.id, ctx.now)
    return f"{reply}\n{attach(ctx, report)}" if report is not None else reply


# ---- 收到 ---------------------------------------------------------------------

def acknowledged(task: Task, branch: Organization, ctx: Context) -> str:
    title = f"{task_label(task)}「{task.title}」"
    if state_of(ctx.session, task, branch) == REPORTED:
        return f"{title}已上报，无需再点收到。"
    at, new = acknowledge(ctx.session, task, branch, ctx.actor.member.id, ctx.now)
    if not new:
        return f"{title}已于 {moment(at)} 收到过。"
    ref = task_ref(task, ctx.now.date())
    return (f"已收到：{title}，截止{day(own_deadline(ctx.session, task, branch), ctx.now.date())}。"
            f"\n记录时间 {moment(at)}。完成后回复：完成 {ref} 说明")


def _branch_task(cmd: Command, ctx: Context, usage: str) -> Task:
    number = need_number(cmd, usage)
    month = ctx.month_named(cmd.month)
    task = find_task(ctx.session, month, number)
    from storage.orgs import targets
    if task is None or not targets(task, ctx.actor.branch):
        raise CommandError(f"本支部没有{month.item_label(number, None if cmd.month else month)}任务。发送“任务”查看编号。")
    return task


@command("acknowledge", "收到", "ack", roles=REPORTERS, refusal=FOR_THE_BRANCH)
def acknowledge_command(cmd: Command, ctx: Context) -> str:
    """收到 N：告知已收到第N项任务（停止催办提醒）"""
    task = _branch_task(cmd, ctx, "收到 N，如：收到 3")
    return acknowledged(task, ctx.actor.branch, ctx)


# ---- 申请延期 -------------------------------------------------------------------

def deciders(session: Session, task: Task) -> list[Member]:
    """Who decides an extension: the staff member who published the task,
    else the staff of the publishing unit, else the org department."""
    if task.created_by:
        person = session.get(Member, task.created_by)
        if person is not None and person.active and person.wecom_userid:
            return [person]
    if task.issuer_org_id and (staff := reachable_members(session, task.issuer_org_id)):
        return staff
    return org_department_staff(session)


def may_decide(actor: Actor, task: Task, branch: Organization, scope: list[Organization]) -> bool:
    """The publisher, their unit's staff, or the org department — for a branch in their scope."""
    if not actor.is_staff or branch.id not in {b.id for b in scope}:
        return False
    return actor.kind == ORG_ADMIN or task.created_by == actor.member.id or task.issuer_org_id == actor.unit.id


def ask_extension(task: Task, branch: Organization, days: int, reason: str, ctx: Context) -> str:
    """An extension request, and a card 同意 / 不同意 to each who may decide."""
    title = f"{task_label(task)}「{task.title}」"
    if state_of(ctx.session, task, branch) == REPORTED:
        raise CommandError(f"{title}已上报，无需延期。")
    request, new = request_extension(ctx.session, task, branch, ctx.actor.member.id, days, reason, ctx.now)
    if not new:
        return f"{title}已申请延期{request.days}天，正在等待审核。"
    today, old = ctx.now.date(), request.old_deadline
    messages, people = [], deciders(ctx.session, task)
    for person in people:
        key = new_card(ctx.session, person.wecom_userid, DECISION_CARD, task, branch, "extension", ctx.now,
                       extension_id=request.id)
        text = (f"**延期申请（编号 {request.id}）**\n{branch.name}（{branch.code}）申请将{title}延期{days}天："
                f"{day(old, today)} → {day(old + timedelta(days=days), today)}\n申请人 {ctx.actor.member.name}"
                + (f"，原因：{reason}" if reason else "")
                + f"\n同意请回复：同意延期 {request.id}\n不同意请回复：不同意延期 {request.id} 原因")
        card = CardBody(key, f"延期申请：{task.title}", f"{branch.name} 申请延期{days}天",
                        rows=(("支部", branch.name), ("原截止", day(old, today)),
                              ("延期至", day(old + timedelta(days=days), today)), ("申请人", ctx.actor.member.name))
                        + ((("原因", reason),) if reason else ()),
                        buttons=(("同意", "yes"), ("不同意", "no")))
        messages.append(to_member(person, f"extension-{request.id}", "ask", with_card(text, card)))
    enqueue(ctx.session, messages, ctx.now)
    who = "、".join(sorted({m.name for m in people})) or "组织部"
    return f"已提交延期申请：{title}延期{days}天（编号 {request.id}），等待{who}审核，结果会通知你。"


@command("extend", "延期", "申请延期", "extend", roles=REPORTERS, refusal=FOR_THE_BRANCH)
def extend(cmd: Command, ctx: Context) -> str:
    """延期 N 天数 [原因]：申请第N项延期，如：延期 3 7天 村里换届"""
    usage = "延期 N 天数 原因，如：延期 3 7天 村里换届"
    task = _branch_task(cmd, ctx, usage)
    match = _DAYS.match(cmd.note.strip()) if cmd.note else None
    if match is None:
        raise CommandError(f"请写明延期天数，如：延期 {task.number} 7天 原因（可选 3天 或 7天）")
    days = int(match.group("days"))
    if not 1 <= days <= MAX_DAYS:
        raise CommandError(f"延期天数应为 1–{MAX_DAYS} 天。")
    reason = REASON.check(match.group("reason").strip()) if match.group("reason").strip() else ""
    return ask_extension(task, ctx.actor.branch, days, reason, ctx)


# ---- 同意 / 不同意 ----------------------------------------------------------------

def decide(ctx: Context, request: ExtensionRequest | None, granted: bool, why: str) -> tuple[str, str]:
    """Grant or refuse an extension request: the one rule for the card's
    buttons and 同意延期 / 不同意延期. (reply, the card's new label)."""
    if request is None:
        raise CommandError("没有这个延期申请编号。")
    task = task_by_id(ctx.session, request.task_id)
    branch = ctx.session.get(Organization, request.branch_id)
    if not may_decide(ctx.actor, task, branch, ctx.scope):
        raise CommandError(DECIDES(ctx.actor))
    title = f"{task_label(task)}「{task.title}」"
    if request.state != PENDING:
        shown = "已同意" if request.new_deadline else "已不同意"
        return f"{branch.name}{title}的延期申请（编号 {request.id}）已处理过：{shown}。", shown
    today = ctx.now.date()
    new_deadline = request.old_deadline + timedelta(days=request.days) if granted else None
    decide_extension(ctx.session, request, task, branch, granted, ctx.actor.member.id, new_deadline, ctx.now)
    if granted:
        body = (f"**延期已同意：{title}**\n{branch.name}的截止日期由{day(request.old_deadline, today)}"
                f"延至{day(new_deadline, today)}。\n完成后请回复：完成 {task_ref(task, today)} 说明")
        detail = f"{branch.code} {branch.name}：延期{request.days}天，{request.old_deadline} → {new_deadline}"
    else:
        body = (f"**延期未同意：{title}**\n{branch.name}仍按{day(request.old_deadline, today)}截止。"
                + (f"\n原因：{why}" if why else "") + f"\n完成后请回复：完成 {task_ref(task, today)} 说明")
        detail = f"{branch.code} {branch.name}：不同意延期{request.days}天" + (f"，原因：{why}" if why else "")
    messages = [to_branch(branch, f"extension-{request.id}", "decision", body)]
    asker = ctx.session.get(Member, request.member_id)
    if asker is not None and asker.active and asker.wecom_userid:
        messages.append(to_member(asker, f"extension-{request.id}", "decision", body))
    enqueue(ctx.session, messages, ctx.now)
    audit.record(ctx.session, ctx.now, Origin(CHAT), "extension" if granted else "extension-refused",
                 f"{Month.iso(task.month).item_label(task.number)} {task.title}", detail,
                 ctx.actor.member, ctx.actor.unit)
    shown = "已同意" if granted else "已不同意"
    return fit(f"{shown}{branch.name}{title}的延期申请（编号 {request.id}）"
               + (f"，新截止日期 {day(new_deadline, today)}" if granted else "") + "。已通知该支部。"), shown


_NUMBER = re.compile(r"\s*第?([0-9]{1,9})号?(?:\s+|$)")


def _request(cmd: Command, usage: str) -> int:
    """The extension request's number (見延期申请消息), which may well pass 999."""
    match = _NUMBER.match(cmd.rest + " ")
    if match is None:
        raise CommandError(f"用法：{usage}")
    return int(match.group(1))


@command("grant_extension", "同意延期", "grant", roles=STAFF, refusal=DECIDES)
def grant_extension(cmd: Command, ctx: Context) -> str:
    """同意延期 编号：同意支部的延期申请"""
    return decide(ctx, extension_by_id(ctx.session, _request(cmd, "同意延期 编号（见延期申请消息）")), True, "")[0]


@command("refuse_extension", "不同意延期", "refuse", roles=STAFF, refusal=DECIDES)
def refuse_extension(cmd: Command, ctx: Context) -> str:
    """不同意延期 编号 [原因]：不同意支部的延期申请"""
    number = _request(cmd, "不同意延期 编号 [原因]（编号见延期申请消息）")
    why = cmd.rest.strip()[len(str(number)):].strip() if cmd.rest.strip().startswith(str(number)) else ""
    return decide(ctx, extension_by_id(ctx.session, number), False, REASON.check(why) if why else "")[0]
