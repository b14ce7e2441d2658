"""签到 and location messages: a mobile member keeps in touch; 代签: a
secretary checks in for a member without WeCom (marked 代签 everywhere).
When every mobile member of a branch has checked in this month, the
branch's "流动党员每月报到" duty is done — nobody reports it by hand."""
from __future__ import annotations

from handlers.context import REPORTERS, CommandError, Context
from handlers.limits import CHECKIN_NOTE
from handlers.names import Directory, read_names
from handlers.parse import Command
from handlers.registry import cannot, command
from handlers.render import moment, task_label
from storage.checkins import month_checkins, record_checkin
from storage.meetings import duty_task, mobile_not_checked_in, people_of
from storage.models import BRANCH, CHECKIN_DUTY
from storage.reports import add_report
from storage.tasks import REPORTED, state_of
from storage.theme_day import CHECKIN, take_part_remotely, theme_of


@command("checkin", "签到", "报到", "checkin", "check-in")  # a location message comes here too
def checkin(cmd: Command, ctx: Context) -> str:
    """签到 [说明]：流动党员报到（也可发送位置）"""
    inbound = ctx.inbound
    is_location = inbound.kind == "location"
    note = "" if is_location else CHECKIN_NOTE.check(cmd.rest)
    first = record_checkin(ctx.session, ctx.actor.member.id, ctx.now, note,
                           inbound.latitude, inbound.longitude, inbound.label)
    count, last = month_checkins(ctx.session, ctx.actor.member.id, ctx.month.first_day, ctx.month.end)
    where = f"（位置：{inbound.label}）" if is_location and inbound.label else ""
    head = f"签到成功{where}，时间 {moment(ctx.now)}。" if first else "今天已经签到过了，不用重复签到。"
    lines = [f"{head}\n本月已签到 {count} 天，最近一次 {moment(last)}。"]
    if first and ctx.actor.member.is_mobile and ctx.actor.unit.type == BRANCH:
        complete_checkin_duty(ctx, ctx.actor.member.id)
    lines += remote_theme_day(ctx, CHECKIN)
    return "\n".join(lines)


def remote_theme_day(ctx: Context, via: str) -> list[str]:
    """A mobile member's 签到 / 学习 from the day of the month's 主题党日 on:
    taking part remotely, said once."""
    if ctx.actor.unit.type != BRANCH or not (task := take_part_remotely(ctx.session, ctx.actor.member, via, ctx.now)):
        return []
    return [f"已记为远程参加{ctx.month.label}主题党日「{theme_of(task)}」。"]


@command("proxy_checkin", "代签", "proxy", roles=REPORTERS, refusal=cannot("代签（只有书记、副书记和支委可以）"))
def proxy_checkin(cmd: Command, ctx: Context) -> str:
    """代签 姓名 [说明]：为没有企业微信的党员代为签到（标注“代签”）"""
    branch = ctx.actor.branch
    if not cmd.rest.strip():
        raise CommandError("用法：代签 姓名 [说明]，如：代签 王伟 电话联系，在深圳务工")
    directory = Directory(people_of(ctx.session, branch.id))
    listed = read_names(cmd.rest, 0, directory.known)
    if len(listed.names) != 1:
        raise CommandError("一次代签一人：代签 姓名 [说明]")
    person = directory.find(listed.names[0])
    note = CHECKIN_NOTE.check(cmd.rest[listed.end:].strip())
    if not record_checkin(ctx.session, person.id, ctx.now, note, proxy_by=ctx.actor.member.id):
        return f"{person.name}今天已经签到过了，不用重复代签。"
    count, _ = month_checkins(ctx.session, person.id, ctx.month.first_day, ctx.month.end)
    lines = [f"已为{person.name}代签（{moment(ctx.now)}，代签人 {ctx.actor.member.name}），"
             f"台账中标注为“代签”。本月已签到 {count} 天。"]
    if person.is_mobile and (done := complete_checkin_duty(ctx, ctx.actor.member.id)):
        lines.append(done)
    return "\n".join(lines)


def complete_checkin_duty(ctx: Context, reporter_id: int) -> str:
    """If every mobile member of the branch has now checked in this month,
    record the month's 流动党员每月报到 as done; what was done, or ""."""
    branch, month = ctx.actor.unit, ctx.month
    task = duty_task(ctx.session, branch, CHECKIN_DUTY, ctx.now.date())
    if task is None or state_of(ctx.session, task, branch) == REPORTED:
        return ""
    if mobile_not_checked_in(ctx.session, branch.id, month):
        return ""
    add_report(ctx.session, task, branch, reporter_id, "", ctx.now, ctx.inbound_id)
    return f"本支部流动党员本月均已报到，{task_label(task, month)}「{task.title}」已自动完成。"
