"""The org department's exports: ledger (台账) and bulletin (通报)."""
from __future__ import annotations

import click

from bot.cli.group import UsageError, cli, month_arg, pass_runtime, period_of
from storage.ledger import build_ledgers
from storage.month import Month, Period, Quarter, Year


@cli.command("ledger", help="导出台账（Excel） export the ledger")
@click.option("--branch", multiple=True, metavar="CODE", help="只导出这个支部（可重复）branch code")
@click.option("--from", "first", metavar="YYYY-MM", help="起始月份 YYYY-MM（默认当年1月）")
@click.option("--to", "last", metavar="YYYY-MM", help="截止月份 YYYY-MM（默认本月）")
@click.option("--no-members", is_flag=True, help="不含党员简历页（全县台账页数减半）")
@click.option("-o", "--output", required=True, metavar="FILE", help="输出文件 .xlsx")
@pass_runtime
def ledger(runtime, branch, first, last, no_members, output) -> None:
    from bot.exports.ledger import write_ledger
    from storage.orgs import active_branches
    today = runtime.clock.today()
    last = month_arg(last, Month.of(today), "--to")
    first = month_arg(first, last.january, "--from")
    if first > last:
        raise UsageError(f"--from {first} 晚于 --to {last}")
    if not output.endswith(".xlsx"):
        raise UsageError("输出文件应以 .xlsx 结尾")
    with runtime.sessions() as session:
        branches = active_branches(session, branch)
        if branch and len(branches) < len(set(branch)):
            found = {b.code for b in branches}
            raise UsageError(f"没有找到支部 {'、'.join(c for c in branch if c not in found)}")
        ledgers = build_ledgers(session, branches, first, last, today)
    write_ledger(ledgers, output, f"台账 {first} 至 {last}，导出于 {runtime.clock.now():%Y-%m-%d %H:%M}",
                 runtime.clock.now(), members=not no_members)
    print(f"已导出 {len(ledgers)} 个支部的台账（{first} 至 {last}）：{output}")


def period_arg(month: str | None, quarter: str | None, year: str | None, today) -> Period:
    """--month / --quarter / --year (at most one); last month by default."""
    if sum(x is not None for x in (month, quarter, year)) > 1:
        raise UsageError("--month、--quarter、--year 只能给一个")
    if quarter is not None:
        return period_of(Quarter, quarter, "--quarter")
    if year is not None:
        return period_of(Year, year, "--year")
    return month_arg(month, Month.of(today).previous(), "--month")


@cli.command("bulletin", help="生成通报（月度、季度或年度） the bulletin")
@click.option("--month", metavar="YYYY-MM", help="月份 YYYY-MM（默认上月）")
@click.option("--quarter", metavar="YYYYQn", help="季度，如 2027Q1")
@click.option("--year", metavar="YYYY", help="年度，如 2027")
@click.option("-o", "--output", metavar="FILE", help="同时导出 Excel 文件 .xlsx")
@click.option("--send", is_flag=True, help="发送到全部支部群 broadcast to all branch groups")
@pass_runtime
def bulletin(runtime, month, quarter, year, output, send) -> None:
    from bot.exports.bulletin import write_bulletin
    from handlers.commands.bulletin import bulletin_messages  # keyed by issuer, as 通报 … 发送 in chat
    from handlers.render.bulletin import render_bulletin
    from storage.bulletin import build_bulletin
    from storage.db import transaction
    from storage.orgs import active_branches, org_department_code, org_department_name
    from storage.outbox import enqueue
    today = runtime.clock.today()
    month = period_arg(month, quarter, year, today)
    with transaction(runtime.sessions) as session:
        branches = active_branches(session)
        data = build_bulletin(session, branches, month, today)
        issuer = org_department_name(session) or "组织部"
        text = render_bulletin(data, issuer)
        if send:
            queued = enqueue(session, bulletin_messages(org_department_code(session) or "county", branches,
                                                        month, text), runtime.clock.now())
    print(text)
    if output:
        write_bulletin(data, output, runtime.clock.now())
        print(f"\n已导出：{output}")
    if send:
        print(f"\n已排队发送到 {queued} 个支部群（调度进程或 python -m bot deliver 发送）")
