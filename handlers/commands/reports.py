"""完成, 更正, and the photo or file that follows a report — or a volunteer
record (志愿 N小时) — as evidence."""
from __future__ import annotations

from handlers.context import REPORTERS, CommandError, Context
from handlers.limits import NOTE
from handlers.parse import Command, need_number
from handlers.registry import cannot, command
from handlers.render import moment, quote, task_label, task_ref
from storage.cards import own_deadline
from storage.models import MEETING_KINDS, Task
from storage.orgs import targets
from storage.people import attach_volunteer_evidence, recent_volunteer_by
from storage.reports import add_report, attach_evidence, current_report, recent_report_by
from storage.tasks import REPORTED, find_task, state_of, task_by_id

EVIDENCE_KINDS = {"image": "照片", "file": "文件", "video": "视频", "voice": "语音"}
FOR_THE_BRANCH = cannot("为支部上报（只有书记、副书记和支委可以上报）")
QUOTED = 100  # characters of a note 更正 shows back: enough to recognise it, and the reply fits


def _task_for(cmd: Command, ctx: Context, usage: str) -> Task:
    number = need_number(cmd, usage)
    branch = ctx.actor.branch
    month = ctx.month_named(cmd.month)
    task = find_task(ctx.session, month, number)
    label = month.item_label(number, None if cmd.month else month)
    if task is None or not targets(task, branch):
        raise CommandError(f"本支部没有{label}任务。发送“任务”查看编号。")
    return task


@command("done", "完成", "上报", "done", roles=REPORTERS, refusal=FOR_THE_BRANCH)
def done(cmd: Command, ctx: Context) -> str:
    """完成 N [说明]：上报第N项已完成，如：完成 2 已开会，到会9人"""
    task = _task_for(cmd, ctx, "完成 N [说明]，如：完成 2 已开会，到会9人")
    NOTE.check(cmd.note)
    return report_task(task, cmd.note, ctx)


def report_task(task: Task, note: str, ctx: Context) -> str:
    """The branch's report of `task`: the one rule for 完成 and a card's 已完成."""
    branch = ctx.actor.branch
    if state_of(ctx.session, task, branch) == REPORTED:
        raise CommandError(f"{task_label(task, ctx.month)}已上报过。如需修改，请发送：更正 {task_ref(task, ctx.now.date())} 新的说明")
    from handlers.commands.meetings import for_duty  # here: 帮助 lists 完成 before 会议
    if task.duty in MEETING_KINDS and (logged := for_duty(task, note, ctx)) is not None:
        return logged  # the meeting, logged with its roll, is the report (issue 12)
    add_report(ctx.session, task, branch, ctx.actor.member.id, note, ctx.now, ctx.inbound_id)
    lines = [f"已记录：{task_label(task, ctx.month)}「{task.title}」", f"上报人 {ctx.actor.member.name}，"
             f"时间 {moment(ctx.now)}"]
    if own_deadline(ctx.session, task, branch) < ctx.now.date():
        lines.append("（已过截止日期，记为逾期完成）")
    if task.evidence:
        lines.append(f"本项需报：{task.evidence}。照片或文件请在10分钟内单聊发给我。")
    return "\n".join(lines)


@command("correct", "更正", "修改", "correct", roles=REPORTERS, refusal=FOR_THE_BRANCH)
def correct(cmd: Command, ctx: Context) -> str:
    """更正 N 说明：更正已上报的内容（原记录保留）"""
    task = _task_for(cmd, ctx, "更正 N 新的说明")
    if not cmd.note:
        raise CommandError(f"请写明更正内容，如：更正 {task.number} 到会人数应为9人")
    NOTE.check(cmd.note)
    old = current_report(ctx.session, task, ctx.actor.branch)
    if old is None:
        raise CommandError(f"第{task.number}项还没有上报，请用：完成 {task.number} 说明")
    add_report(ctx.session, task, ctx.actor.branch, ctx.actor.member.id, cmd.note, ctx.now,
               ctx.inbound_id, kind="correction")
    return (f"已更正第{task.number}项「{task.title}」。\n原记录（{moment(old.received_at)}）："
            f"{quote(old.note, QUOTED) if old.note else '无说明'}\n新记录（{moment(ctx.now)}）："
            f"{quote(cmd.note, QUOTED)}\n原记录已保留。")


def evidence(cmd: Command, ctx: Context) -> str:
    """照片/文件：作为刚上报任务（或刚登记的志愿服务）的证明材料"""
    report = recent_report_by(ctx.session, ctx.actor.member.id, ctx.now)
    service = recent_volunteer_by(ctx.session, ctx.actor.member.id, ctx.now)
    # The later of the two is what the photo is about (a tie keeps the report, as before 志愿 took photos).
    if service is not None and (report is None or service.received_at > report.received_at):
        return _attach_to_service(ctx, service)
    if report is None:
        from handlers.commands.cards import report_awaiting_evidence  # a card's 已完成 waits for this
        if (reported := report_awaiting_evidence(cmd, ctx)) is not None:
            return reported
        return ("收到材料，但10分钟内没有你的上报或志愿服务登记。请先发送“完成 N 说明”或“志愿 N小时 说明”，"
                "再发照片或文件。")
    return attach(ctx, report)


def evidence_with(cmd: Command, ctx: Context) -> str:
    """The photos that came with a command (a smart robot's mixed message,
    a quoted photo): the evidence of the report it made, if it made one."""
    if cmd.name in ("done", "correct"):
        report = recent_report_by(ctx.session, ctx.actor.member.id, ctx.now)
        if report is not None:
            return attach(ctx, report)
    if cmd.name == "volunteer":
        service = recent_volunteer_by(ctx.session, ctx.actor.member.id, ctx.now)
        if service is not None:
            return _attach_to_service(ctx, service)
    return "（随消息发来的照片或文件未保存：证明材料请与“完成 N”一起发，或上报后10分钟内单聊发给我。）"


def attach(ctx: Context, report) -> str:
    media = ctx.inbound.media
    for i, item in enumerate(media, start=1):
        attach_evidence(ctx.session, report, item.media_id, item.kind, _file_name(ctx, item, i), ctx.now,
                        url=item.url, aes_key=item.aes_key)
    task = task_by_id(ctx.session, report.task_id)
    what = _what(media)
    return f"已将{what}作为第{task.number}项「{task.title}」的证明材料。"


def _attach_to_service(ctx: Context, service) -> str:
    media, count = ctx.inbound.media, 0
    for i, item in enumerate(media, start=1):
        count = attach_volunteer_evidence(ctx.session, service, item.media_id, item.kind,
                                          _file_name(ctx, item, i), ctx.now, url=item.url, aes_key=item.aes_key)
    what = _what(media)
    return (f"已将{what}作为你{service.day.month}月{service.day.day}日志愿服务 {service.hours:g} 小时的记录"
            f"（这次服务共 {count} 份）。")


def _what(media) -> str:
    """照片 / 文件 / 3份照片、文件: what the reply says was kept."""
    kinds = "、".join(sorted({EVIDENCE_KINDS.get(item.kind, "材料") for item in media}))
    return kinds if len(media) == 1 else f"{len(media)}份{kinds}"


def _file_name(ctx: Context, item, i: int) -> str:
    """The name WeCom gave, or one made from the MediaId (the downloader fixes the extension)."""
    reference = item.media_id or ""
    return item.file_name or f"{item.kind}-{reference[:12] or f'{ctx.inbound_id}-{i}'}." \
                             f"{'jpg' if item.kind == 'image' else 'bin'}"
