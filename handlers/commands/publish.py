"""发布: the org department (or a committee, for its own branches) publishes a
task and it is broadcast to every target branch group through the outbox —
never inside the callback's 5 seconds, and once per branch."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from handlers.context import COMMITTEE, STAFF, Actor, CommandError, Context
from handlers.limits import CONTENT, TITLE
from handlers.parse import Command, day_arg
from handlers.registry import cannot, command
from handlers.render import day, quote
from storage import audit
from storage.audit import CHAT, Origin
from storage.models import Organization, Task
from storage.month import Month
from storage.orgs import targets
from storage.outbox import enqueue, to_branch
from storage.tasks import add_task
from storage.importers.plan_read import parse_targets

USAGE = "用法：发布 标题 截止 2027-03-20 [对象 全部/农村,社区/ZB0001,ZB0002] [内容]"
_SHAPE = re.compile(r"^(?P<title>.+?)\s*截止(?:日期)?\s*[:：]?\s*(?P<date>\S+)"
                    r"(?:\s+对象\s*[:：]?\s*(?P<targets>\S+))?(?:\s+(?P<content>.+))?$", re.S)


@dataclass(frozen=True)
class Publication:
    title: str
    deadline: date
    targets: str
    content: str


def parse_publication(rest: str, today: date) -> Publication:
    """The parts of a 发布 command (pure)."""
    match = _SHAPE.match(rest.strip())
    if not match or not match.group("title").strip():
        raise CommandError(USAGE)
    deadline = day_arg(match.group("date"), "截止日期")
    if deadline < today:
        raise CommandError(f"截止日期 {deadline} 已经过去，请填今天或以后的日期。")
    return Publication(TITLE.check(match.group("title").strip()), deadline,
                       (match.group("targets") or "全部").strip(),
                       CONTENT.check((match.group("content") or "").strip()))


def publish_task(session: Session, actor: Actor, scope: list[Organization], now: datetime, *, title: str,
                 deadline: date, targets_text: str, content: str = "", evidence: str | None = None,
                 natural_key: str, origin: Origin) -> tuple[Task, list[Organization]]:
    """Publish a task to the branches of `scope` that `targets_text` names
    (全部 / 农村,社区 / ZB0001,ZB0002) and queue its broadcast: the one rule
    for 发布 in chat and the workbench's publish form. A committee's 全部 or
    领域 means its own branches. Audited; CommandError for what the user can fix."""
    if deadline < now.date():
        raise CommandError(f"截止日期 {deadline} 已经过去，请填今天或以后的日期。")
    try:
        kind, values = parse_targets(targets_text, {b.code for b in scope})
    except ValueError as e:
        hint = "（党委只能发布给下属支部）" if actor.kind == COMMITTEE else ""
        raise CommandError(f"{quote(str(e), 200)}{hint}") from None
    if actor.kind == COMMITTEE and kind != "codes":
        # A committee's "all" or 领域 means its own branches: pin them down.
        task_probe = Task(target_kind=kind, target_values=",".join(values))
        kind, values = "codes", tuple(b.code for b in scope if targets(task_probe, b))
    probe = Task(target_kind=kind, target_values=",".join(values))
    branches = [b for b in scope if targets(probe, b)]
    if not branches:
        raise CommandError(f"对象“{quote(targets_text)}”下没有支部，任务未发布。")
    TITLE.check(title)  # the workbench's form is held to the chat's limits
    CONTENT.check(content)
    task = add_task(session, natural_key=natural_key[:300], month=str(Month.of(now.date())),
                    title=title, deadline=deadline, target_kind=kind, target_values=",".join(values),
                    evidence=evidence or None, note=content or None, recurring=False, issuer=actor.unit.name,
                    issuer_org_id=actor.unit.id, created_by=actor.member.id, received_at=now)
    body = (f"**新任务：{task.title}**\n发布：{task.issuer}\n截止：{day(task.deadline, now.date())}\n"
            + (f"{content}\n" if content else "")
            + (f"需报材料：{evidence}\n" if evidence else "")
            + f"完成后请回复：完成 {task.number} 说明")
    enqueue(session, [to_branch(b, f"task-{task.id}", task.month, body) for b in branches], now)
    audit.record(session, now, origin, "publish", f"{Month.iso(task.month).item_label(task.number)} {task.title}",
                 f"截止 {task.deadline}；对象 {targets_text}（{len(branches)} 个支部）", actor.member, actor.unit)
    return task, branches


@command("publish", "发布", "publish", roles=STAFF, refusal=cannot("发布任务（组织部和党委可以）"))
def publish(cmd: Command, ctx: Context) -> str:
    """发布 标题 截止 YYYY-MM-DD [对象 全部/农村,社区/ZB0001] [内容]：发布任务并发送到各支部"""
    item = parse_publication(cmd.rest, ctx.now.date())
    task, branches = publish_task(ctx.session, ctx.actor, ctx.scope, ctx.now, title=item.title,
                                  deadline=item.deadline, targets_text=item.targets, content=item.content,
                                  natural_key=f"chat:{ctx.inbound.dedupe_key}", origin=Origin(CHAT))
    return (f"已发布第{task.number}项「{task.title}」，截止{day(task.deadline, ctx.now.date())}，"
            f"正在发送到 {len(branches)} 个支部。")
