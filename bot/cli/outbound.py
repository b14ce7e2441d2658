"""Outbound commands: push-monthly, remind, deliver, deliveries, scheduler."""
from __future__ import annotations


from sqlalchemy import func, select
from tqdm import tqdm

from bot.cli import UsageError, command, month_arg
from handlers import pushes
from storage.db import transaction
from storage.models import Delivery
from storage.outbox import FAILED, PENDING, enqueue, failed
from storage.month import Month


def _push_args(parser) -> None:
    parser.add_argument("--month", help="月份 YYYY-MM（默认本月）")
    parser.add_argument("--branch", action="append", help="只推送这个支部（可重复）branch code")
    parser.add_argument("--dry-run", action="store_true", help="只显示将发往何处，不发送 show only")


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


@command("push-monthly", "推送月度重点工作提醒单 push the monthly reminder sheets", _push_args)
def push_monthly(runtime, args) -> None:
    month, today = month_arg(args.month, Month.of(runtime.clock.today()), "--month"), runtime.clock.today()
    with transaction(runtime.sessions) as session:
        rows = pushes.monthly_sheets(session, month, today, args.branch)
        if args.branch and not rows:
            raise UsageError(f"没有找到支部 {'、'.join(args.branch)}")
        if args.dry_run:
            for row in rows:
                print(f"→ {row['target']}（{row['channel']} {row['address'] or '未配置群地址'}）"
                      f" {row['purpose']} {row['period']}\n{row['body']}\n")
            print(f"共 {len(rows)} 条（未发送）")
            return
        new = enqueue(session, rows, runtime.clock.now())
    print(f"{month} 提醒单：新排队 {new} 条，已在队列或已发送 {len(rows) - new} 条")
    sent, failures = send_pending(runtime)
    print(f"发送完成：累计已发送 {sent} 条，失败 {failures} 条（python -m bot deliveries --failed 查看）")


@command("remind", "立即运行截止提醒和逾期督办 run deadline reminders and escalations now")
def remind(runtime, args) -> None:
    today = runtime.clock.today()
    with transaction(runtime.sessions) as session:
        rows = pushes.deadline_reminders(session, today) + pushes.overdue_escalations(session, today)
        new = enqueue(session, rows, runtime.clock.now())
    print(f"提醒：新排队 {new} 条（{len(rows) - new} 条此前已发）")
    send_pending(runtime)


@command("deliver", "发送队列中到期的消息 send what is due in the outbox")
def deliver(runtime, args) -> None:
    sent, failures = send_pending(runtime)
    print(f"累计已发送 {sent} 条，失败 {failures} 条")


def _deliveries_args(parser) -> None:
    parser.add_argument("--failed", action="store_true", help="只看发送失败的 failed only")


@command("deliveries", "查看发送记录 list deliveries", _deliveries_args)
def deliveries(runtime, args) -> None:
    with runtime.sessions() as session:
        rows = failed(session) if args.failed else list(session.scalars(
            select(Delivery).order_by(Delivery.id.desc()).limit(50)))
    for d in rows:
        print(f"{d.id}\t{d.state}\t{d.target}\t{d.purpose}\t{d.period}\t{d.attempts}次\t{d.last_error or ''}")
    print(f"共 {len(rows)} 条" + ("发送失败" if args.failed else "（最近 50 条）"))


@command("scheduler", "单独运行定时任务进程 run the scheduler process")
def scheduler(runtime, args) -> None:
    from bot.schedule.scheduler import Scheduler
    Scheduler(runtime).run_forever()


def _push_date_args(parser) -> None:
    parser.add_argument("--month", required=True, help="月份 YYYY-MM")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--on", help="推送日期 YYYY-MM-DD（该月内）")
    group.add_argument("--clear", action="store_true", help="取消，恢复为该月第一个工作日")


@command("push-date", "指定某月提醒单的推送日期（节假日数据缺失或有误时）set a month's push day", _push_date_args)
def push_date(runtime, args) -> None:
    from datetime import date

    from storage.models import PushDate
    month = month_arg(args.month, Month.of(runtime.clock.today()), "--month")
    with transaction(runtime.sessions) as session:
        row = session.get(PushDate, str(month))
        if args.clear:
            if row:
                session.delete(row)
            print(f"{month} 提醒单恢复为第一个工作日推送")
            return
        try:
            day = date.fromisoformat(args.on)
        except ValueError:
            raise UsageError(f"日期“{args.on}”无效，应为 YYYY-MM-DD") from None
        if day not in month:
            raise UsageError(f"{day} 不在 {month} 内")
        if row is None:
            session.add(PushDate(month=str(month), day=day, received_at=runtime.clock.now()))
        else:
            row.day = day
    print(f"{month} 提醒单将于 {day} {runtime.config['scheduler.monthly_push_time']} 推送")
