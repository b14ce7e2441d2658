"""锋领考评 (issue 12): `radar` exports the quarter's scores per member
(.xlsx with a notes sheet stating each rule), a radar chart per member
(PNG) and a 公示 per branch (markdown; `--send` queues it to each branch
group); `import-appraisals` reads the staff-entered scores back."""
from __future__ import annotations

from pathlib import Path

import click

from bot.cli.group import UsageError, cli, pass_runtime, period_of
from storage.month import Quarter


def radar_messages(issuer_code: str, branches, quarter: Quarter, notices: dict[str, tuple[str, str]]):
    """One 公示 a branch group; keyed (group, radar-<issuer>, quarter), as
    bulletins are, so a resend is harmless and another issuer's is not lost."""
    from storage.outbox import to_branch
    return [to_branch(b, f"radar-{issuer_code}", str(quarter), notices[b.code][1])
            for b in branches if b.code in notices]


@cli.command("radar", help="锋领考评：每名党员各维度得分、雷达图和支部公示 the quarterly member radar")
@click.option("--quarter", required=True, metavar="YYYYQn", help="季度，如 2027Q1")
@click.option("--branch", multiple=True, metavar="CODE", help="只导出这个支部（可重复）branch code")
@click.option("-o", "--output", required=True, metavar="FILE", help="输出文件 .xlsx")
@click.option("--png-dir", metavar="DIR", help="每名党员一张雷达图（PNG）的文件夹")
@click.option("--notice-dir", metavar="DIR", help="每个支部一份公示（markdown）的文件夹")
@click.option("--send", is_flag=True, help="把公示发送到各支部群 queue each branch's 公示 to its group")
@pass_runtime
def radar(runtime, quarter, branch, output, png_dir, notice_dir, send) -> None:
    from bot.exports.radar import write_charts, write_radar
    from handlers.render.radar import notices as render_notices
    from storage import radar as radar_store
    from storage.db import transaction
    from storage.orgs import active_branches, org_department_code
    from storage.outbox import enqueue
    quarter = period_of(Quarter, quarter, "--quarter")
    if not output.endswith(".xlsx"):
        raise UsageError("输出文件应以 .xlsx 结尾")
    rules = radar_store.RULES
    with transaction(runtime.sessions) as session:
        branches = active_branches(session, list(branch))
        if branch and len(branches) < len(set(branch)):
            found = {b.code for b in branches}
            raise UsageError(f"没有找到支部 {'、'.join(c for c in branch if c not in found)}")
        scores = radar_store.radar(session, quarter, list(branch) or None, rules)
        notices = render_notices(quarter, scores, rules)
        if send:
            queued = enqueue(session, radar_messages(org_department_code(session) or "county", branches,
                                                     quarter, notices), runtime.clock.now())
    write_radar(quarter, scores, rules, output, runtime.clock.now())
    print(f"已导出 {quarter.label}锋领考评：{len(notices)} 个支部，{len(scores)} 名党员：{output}")
    if png_dir:
        charts = write_charts(quarter, scores, png_dir)
        print(f"雷达图 {len(charts)} 张：{png_dir}")
    if notice_dir:
        folder = Path(notice_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for code, (_, text) in notices.items():
            (folder / f"{code}-{quarter}-公示.md").write_text(text + "\n", encoding="utf-8")
        print(f"公示 {len(notices)} 份：{notice_dir}")
    if send:
        print(f"公示已排队发送到 {queued} 个支部群（调度进程或 python -m bot deliver 发送）")


@cli.command("import-appraisals", help="导入满意度、岗位业绩（锋领考评） import staff-entered radar scores")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--quarter", required=True, metavar="YYYYQn", help="季度，如 2027Q1")
@pass_runtime
def import_appraisals_command(runtime, file, quarter) -> None:
    from storage.db import transaction
    from storage.importers.appraisals import import_appraisals
    quarter = period_of(Quarter, quarter, "--quarter")
    with transaction(runtime.sessions) as session:
        written = import_appraisals(session, file, quarter, runtime.clock.now())
    print(f"已导入 {quarter.label} {written} 名党员的考评分数")
