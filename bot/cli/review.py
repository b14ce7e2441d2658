"""述职评议: `python -m bot review --year 2027 [--branch CODE] -o FILE.xlsx`."""
from __future__ import annotations

import click

from bot.cli.group import UsageError, cli, pass_runtime, period_of
from storage.month import Year


@cli.command("review", help="导出述职评议（Excel：各支部及书记全年记录） the annual review")
@click.option("--year", "year_text", required=True, metavar="YYYY", help="年度，如 2027")
@click.option("--branch", multiple=True, metavar="CODE", help="只导出这个支部（可重复）branch code")
@click.option("-o", "--output", required=True, metavar="FILE", help="输出文件 .xlsx")
@pass_runtime
def review(runtime, year_text, branch, output) -> None:
    from bot.exports.review import write_review
    from storage import audit
    from storage.audit import CLI, Origin
    from storage.db import transaction
    from storage.orgs import active_branches
    from storage.review import build_reviews
    year = period_of(Year, year_text, "--year")
    if not output.endswith(".xlsx"):
        raise UsageError("输出文件应以 .xlsx 结尾")
    now = runtime.clock.now()
    with transaction(runtime.sessions) as session:
        branches = active_branches(session, list(branch))
        if branch and len(branches) < len(set(branch)):
            found = {b.code for b in branches}
            raise UsageError(f"没有找到支部 {'、'.join(c for c in branch if c not in found)}")
        reviews = build_reviews(session, branches, year, now.date())
        audit.record(session, now, Origin(CLI), "export", "述职评议", f"{year.label}（{len(branches)} 个支部）")
    write_review(reviews, output, f"{year.label}述职评议，导出于 {now:%Y-%m-%d %H:%M}", now)
    print(f"已导出 {len(reviews)} 个支部的{year.label}述职评议：{output}")
