"""The org department's exports: ledger (台账) and bulletin (通报)."""
from __future__ import annotations


from bot.cli import UsageError, command, month_arg
from storage.ledger import build_ledgers
from storage.month import Month


def _ledger_args(parser) -> None:
    parser.add_argument("--branch", action="append", help="只导出这个支部（可重复）branch code")
    parser.add_argument("--from", dest="first", help="起始月份 YYYY-MM（默认当年1月）")
    parser.add_argument("--to", dest="last", help="截止月份 YYYY-MM（默认本月）")
    parser.add_argument("-o", "--output", required=True, help="输出文件 .xlsx")


@command("ledger", "导出台账（Excel） export the ledger", _ledger_args)
def ledger(runtime, args) -> None:
    from bot.exports.ledger import write_ledger
    from storage.orgs import active_branches
    today = runtime.clock.today()
    last = month_arg(args.last, Month.of(today), "--to")
    first = month_arg(args.first, last.january, "--from")
    if first > last:
        raise UsageError(f"--from {first} 晚于 --to {last}")
    if not args.output.endswith(".xlsx"):
        raise UsageError("输出文件应以 .xlsx 结尾")
    with runtime.sessions() as session:
        branches = active_branches(session, args.branch)
        if args.branch and len(branches) < len(set(args.branch)):
            found = {b.code for b in branches}
            raise UsageError(f"没有找到支部 {'、'.join(c for c in args.branch if c not in found)}")
        ledgers = build_ledgers(session, branches, first, last, today)
    write_ledger(ledgers, args.output, f"台账 {first} 至 {last}，导出于 {runtime.clock.now():%Y-%m-%d %H:%M}")
    print(f"已导出 {len(ledgers)} 个支部的台账（{first} 至 {last}）：{args.output}")


def _bulletin_args(parser) -> None:
    parser.add_argument("--month", help="月份 YYYY-MM（默认上月）")
    parser.add_argument("-o", "--output", help="同时导出 Excel 文件 .xlsx")
    parser.add_argument("--send", action="store_true", help="发送到全部支部群 broadcast to all branch groups")


@command("bulletin", "生成月度通报（排名、逾期、三会一课、流动党员） the monthly bulletin", _bulletin_args)
def bulletin(runtime, args) -> None:
    from bot.exports.bulletin import write_bulletin
    from handlers.render.bulletin import render_bulletin
    from storage.bulletin import build_bulletin
    from storage.db import transaction
    from storage.orgs import active_branches, org_department_name
    from storage.outbox import enqueue, to_branch
    today = runtime.clock.today()
    month = month_arg(args.month, Month.of(today).previous(), "--month")
    with transaction(runtime.sessions) as session:
        branches = active_branches(session)
        data = build_bulletin(session, branches, month, today)
        issuer = org_department_name(session) or "组织部"
        text = render_bulletin(data, issuer)
        if args.send:
            queued = enqueue(session, [to_branch(b, "bulletin", str(month), text) for b in branches],
                             runtime.clock.now())
    print(text)
    if args.output:
        write_bulletin(data, args.output)
        print(f"\n已导出：{args.output}")
    if args.send:
        print(f"\n已排队发送到 {queued} 个支部群（调度进程或 python -m bot deliver 发送）")
