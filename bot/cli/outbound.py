"""Outbound commands: push-monthly, remind, deliver, deliveries, scheduler."""
from __future__ import annotations


from tqdm import tqdm

from bot.cli import UsageError, command, month_arg
from storage.db import transaction
from storage.outbox import FAILED, PENDING, SENT, counts, enqueue, failed, recent
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
        due = counts(session).get(PENDING, 0)
    with tqdm(total=due, desc="发送", unit="条", disable=None) as bar:
        while handled := worker.run_once():
            bar.update(handled)
    with runtime.sessions() as session:
        totals = counts(session)
    return totals.get(SENT, 0), totals.get(FAILED, 0)


@command("push-monthly", "推送月度重点工作提醒单 push the monthly reminder sheets", _push_args)
def push_monthly(runtime, args) -> None:
    month, today = month_arg(args.month, Month.of(runtime.clock.today()), "--month"), runtime.clock.today()
    from bot.outbound.worker import choose_route
    from bot.schedule.pushes import monthly_sheet
    from storage.addresses import addresses_of
    with transaction(runtime.sessions) as session:
        messages = monthly_sheet.messages(session, today, str(month), args.branch)
        if args.branch and not messages:
            raise UsageError(f"没有找到支部 {'、'.join(args.branch)}")
        if args.dry_run:
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


@command("remind", "立即运行今天到期的提醒（与每日定时任务相同）run today's due pushes now, as the daily job does")
def remind(runtime, args) -> None:
    from bot.schedule.daily import run_daily
    queued = run_daily(runtime)
    shown = "，".join(f"{name} {n} 条" for name, n in queued.items()) or "今天没有尚未运行的提醒"
    print(f"提醒：新排队 {sum(queued.values())} 条（{shown}）")
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
        rows = failed(session) if args.failed else recent(session, 50)
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

    from storage.jobs import set_push_day
    month = month_arg(args.month, Month.of(runtime.clock.today()), "--month")
    if args.clear:
        with transaction(runtime.sessions) as session:
            set_push_day(session, month, None, runtime.clock.now())
        print(f"{month} 提醒单恢复为第一个工作日推送")
        return
    try:
        day = date.fromisoformat(args.on)
    except ValueError:
        raise UsageError(f"日期“{args.on}”无效，应为 YYYY-MM-DD") from None
    if day not in month:
        raise UsageError(f"{day} 不在 {month} 内")
    with transaction(runtime.sessions) as session:
        set_push_day(session, month, day, runtime.clock.now())
    print(f"{month} 提醒单将于 {day} {runtime.config['scheduler.monthly_push_time']} 推送")
