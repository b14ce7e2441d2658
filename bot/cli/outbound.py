"""Outbound commands: push-monthly, remind, deliver, deliveries, push-date, scheduler."""
from __future__ import annotations

import click
from tqdm import tqdm

from bot.cli.group import UsageError, cli, exactly_one_of, month_arg, pass_runtime
from storage.db import transaction
from storage.month import Month
from storage.outbox import FAILED, PENDING, SENT, counts, enqueue, failed, recent


def send_pending(runtime) -> tuple[int, int]:
    """Send everything due now, with a progress bar; (sent, failed)."""
    from bot.outbound.worker import DeliveryWorker
    worker = DeliveryWorker(runtime)
    with runtime.sessions() as session:
        due = counts(session).get(PENDING, 0)
    with tqdm(total=due, desc="发送", unit="条", disable=None) as bar:
        while handled := worker.run_once():
            bar.update(handled)
    with runtime.sessions() as session:
        totals = counts(session)
    return totals.get(SENT, 0), totals.get(FAILED, 0)


@cli.command("push-monthly", help="推送月度重点工作提醒单 push the monthly reminder sheets")
@click.option("--month", metavar="YYYY-MM", help="月份 YYYY-MM（默认本月）")
@click.option("--branch", multiple=True, metavar="CODE", help="只推送这个支部（可重复）branch code")
@click.option("--dry-run", is_flag=True, help="只显示将发往何处，不发送 show only")
@pass_runtime
def push_monthly(runtime, month, branch, dry_run) -> None:
    from bot.outbound.worker import choose_route
    from bot.schedule.pushes import monthly_sheet
    from storage.addresses import addresses_of
    month, today = month_arg(month, Month.of(runtime.clock.today()), "--month"), runtime.clock.today()
    with transaction(runtime.sessions) as session:
        messages = monthly_sheet.messages(session, today, str(month), list(branch))
        if branch and not messages:
            raise UsageError(f"没有找到支部 {'、'.join(branch)}")
        if dry_run:
            addresses = addresses_of(session, [m.audience for m in messages])
            for m in messages:
                route = choose_route(m.audience, addresses.get(m.audience, []))
                where = f"{route.kind} {route.value}" if route else "未配置群地址"
                print(f"→ {m.audience}（{where}） {m.purpose} {m.period}\n{m.body}\n")
            print(f"共 {len(messages)} 条（未发送）")
            return
        new = enqueue(session, messages, runtime.clock.now())
    print(f"{month} 提醒单：新排队 {new} 条，已在队列或已发送 {len(messages) - new} 条")
    sent, failures = send_pending(runtime)
    print(f"发送完成：累计已发送 {sent} 条，失败 {failures} 条（python -m bot deliveries --failed 查看）")


@cli.command("remind", help="立即运行今天到期的推送 run today's due pushes now")
@pass_runtime
def remind(runtime) -> None:
    from bot.schedule.daily import run_daily
    queued = run_daily(runtime)
    shown = "，".join(f"{name} {n} 条" for name, n in queued.items()) or "今天没有尚未运行的提醒"
    print(f"提醒：新排队 {sum(queued.values())} 条（{shown}）")
    send_pending(runtime)


@cli.command("deliver", help="发送队列中到期的消息 send what is due in the outbox")
@pass_runtime
def deliver(runtime) -> None:
    sent, failures = send_pending(runtime)
    print(f"累计已发送 {sent} 条，失败 {failures} 条")


@cli.command("deliveries", help="查看发送记录 list deliveries")
@click.option("--failed", "failed_only", is_flag=True, help="只看发送失败的 failed only")
@pass_runtime
def deliveries(runtime, failed_only) -> None:
    with runtime.sessions() as session:
        rows = failed(session) if failed_only else recent(session, 50)
    now = runtime.clock.now()
    for d in rows:  # a delayed row (paced, or waiting out a WeCom block) shows when it goes
        state = f"{d.state}（{d.due_at:%m-%d %H:%M} 发）" if d.state == PENDING and d.due_at > now else d.state
        print(f"{d.id}\t{state}\t{d.target}\t{d.purpose}\t{d.period}\t{d.attempts}次\t{d.last_error or ''}")
    print(f"共 {len(rows)} 条" + ("发送失败" if failed_only else "（最近 50 条）"))


@cli.command("scheduler", help="单独运行定时任务进程 run the scheduler process")
@pass_runtime
def scheduler(runtime) -> None:
    from bot.schedule.scheduler import Scheduler
    Scheduler(runtime).run_forever()


@cli.command("push-date", help="指定某月提醒单的推送日期（节假日数据缺失或有误时）set a month's push day")
@click.option("--month", required=True, metavar="YYYY-MM", help="月份 YYYY-MM")
@click.option("--on", metavar="YYYY-MM-DD", help="推送日期 YYYY-MM-DD（该月内）")
@click.option("--clear", is_flag=True, help="取消，恢复为该月第一个工作日")
@exactly_one_of("on", "clear")
@pass_runtime
def push_date(runtime, month, on, clear) -> None:
    from datetime import date

    from storage.jobs import set_push_day
    month = month_arg(month, Month.of(runtime.clock.today()), "--month")
    if clear:
        with transaction(runtime.sessions) as session:
            set_push_day(session, month, None, runtime.clock.now())
        print(f"{month} 提醒单恢复为第一个工作日推送")
        return
    try:
        day = date.fromisoformat(on)
    except ValueError:
        raise UsageError(f"日期“{on}”无效，应为 YYYY-MM-DD") from None
    if day not in month:
        raise UsageError(f"{day} 不在 {month} 内")
    with transaction(runtime.sessions) as session:
        set_push_day(session, month, day, runtime.clock.now())
    print(f"{month} 提醒单将于 {day} {runtime.config['scheduler.monthly_push_time']} 推送")
