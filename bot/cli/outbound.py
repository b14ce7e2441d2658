"""Outbound commands: push-monthly, remind, deliver, deliveries, scheduler."""
from __future__ import annotations


import click
from sqlalchemy import func, select
from tqdm import tqdm

from bot.cli.group import UsageError, cli, exactly_one_of, month_arg, pass_runtime
from handlers import pushes
from storage.db import transaction
from storage.models import Delivery
from storage.outbox import FAILED, PENDING, enqueue, failed
from storage.month import Month


def send_pending(runtime) -> tuple[int, int]:
    """Send everything due now, with a progress bar; (sent, failed)."""
    from bot.outbound.worker import DeliveryWorker
    worker = DeliveryWorker(runtime)
    with runtime.sessions() as session:
        due = session.scalar(select(func.count(Delivery.id)).where(Delivery.state == PENDING))
    with tqdm(total=due, desc="发送", unit="条", disable=None) as bar:
        while handled := worker.run_once():
            bar.update(handled)
    with runtime.sessions() as session:
        counts = dict(session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())
    return counts.get("sent", 0), counts.get(FAILED, 0)


@cli.command("push-monthly", help="推送月度重点工作提醒单 push the monthly reminder sheets")
@click.option("--month", metavar="YYYY-MM", help="月份 YYYY-MM（默认本月）")
@click.option("--branch", multiple=True, metavar="CODE", help="只推送这个支部（可重复）branch code")
@click.option("--dry-run", is_flag=True, help="只显示将发往何处，不发送 show only")
@pass_runtime
def push_monthly(runtime, month, branch, dry_run) -> None:
    month, today = month_arg(month, Month.of(runtime.clock.today()), "--month"), runtime.clock.today()
    with transaction(runtime.sessions) as session:
        rows = pushes.monthly_sheets(session, month, today, branch)
        if branch and not rows:
            raise UsageError(f"没有找到支部 {'、'.join(branch)}")
        if dry_run:
            for row in rows:
                print(f"→ {row['target']}（{row['channel']} {row['address'] or '未配置群地址'}）"
                      f" {row['purpose']} {row['period']}\n{row['body']}\n")
            print(f"共 {len(rows)} 条（未发送）")
            return
        new = enqueue(session, rows, runtime.clock.now())
    print(f"{month} 提醒单：新排队 {new} 条，已在队列或已发送 {len(rows) - new} 条")
    sent, failures = send_pending(runtime)
    print(f"发送完成：累计已发送 {sent} 条，失败 {failures} 条（python -m bot deliveries --failed 查看）")


@cli.command("remind", help="立即运行截止提醒和逾期督办 run deadline reminders and escalations now")
@pass_runtime
def remind(runtime) -> None:
    today = runtime.clock.today()
    with transaction(runtime.sessions) as session:
        rows = pushes.deadline_reminders(session, today) + pushes.overdue_escalations(session, today)
        new = enqueue(session, rows, runtime.clock.now())
    print(f"提醒：新排队 {new} 条（{len(rows) - new} 条此前已发）")
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
        rows = failed(session) if failed_only else list(session.scalars(
            select(Delivery).order_by(Delivery.id.desc()).limit(50)))
    for d in rows:
        print(f"{d.id}\t{d.state}\t{d.target}\t{d.purpose}\t{d.period}\t{d.attempts}次\t{d.last_error or ''}")
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

    from storage.models import PushDate
    month = month_arg(month, Month.of(runtime.clock.today()), "--month")
    with transaction(runtime.sessions) as session:
        row = session.get(PushDate, str(month))
        if clear:
            if row:
                session.delete(row)
            print(f"{month} 提醒单恢复为第一个工作日推送")
            return
        try:
            day = date.fromisoformat(on)
        except ValueError:
            raise UsageError(f"日期“{on}”无效，应为 YYYY-MM-DD") from None
        if day not in month:
            raise UsageError(f"{day} 不在 {month} 内")
        if row is None:
            session.add(PushDate(month=str(month), day=day, received_at=runtime.clock.now()))
        else:
            row.day = day
    print(f"{month} 提醒单将于 {day} {runtime.config['scheduler.monthly_push_time']} 推送")
