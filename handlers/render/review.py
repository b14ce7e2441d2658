"""述职评议 as the rows of its workbook (pure): one summary row per branch
and its secretary, then 依据 — the records each figure was counted from
(the branch's ledger rows, volunteer service, the development register,
rectification items), so an inspector can check any number."""
from __future__ import annotations

from handlers.render.bulletin import Sheet
from handlers.render.ledger import cell, ledger_rows
from storage.bulletin import MONTHLY_MEETINGS, QUARTERLY_MEETINGS
from storage.development import dates_of, stage_of
from storage.models import DEVELOPMENT_STAGES
from storage.review import BranchReview

KINDS = (*MONTHLY_MEETINGS, *QUARTERLY_MEETINGS)
SUMMARY_HEADERS = ("支部编码", "支部名称", "上级党组织", "书记", "应报任务", "已上报", "按时上报", "按时完成率",
                   "逾期未报", "被退回任务", "会议补记录", "更正次数",
                   *(f"{kind}（达标/应有）" for kind in KINDS),
                   "流动党员人数", "流动党员报到（人次/应报）", "志愿服务（小时）",
                   *(f"发展：{stage}" for stage in DEVELOPMENT_STAGES), "本年接收预备党员", "本年转正",
                   "整改事项", "整改已销号", "整改未销号", "软弱涣散整顿")
DETAIL_HEADERS = ("支部编码", "类别", "月份", "事项", "日期/截止", "状态", "登记时间（服务器）", "登记人", "说明",
                  "证明材料", "标注")


def summary_row(r: BranchReview) -> tuple:
    lg = r.ledger
    stages = r.stage_counts()
    closed = sum(i.closed for i in r.items)
    flags = "；".join(f"{f.flagged_at:%Y-%m-%d} 列入（{f.reason}）"
                      + (f"，{f.lifted_at:%Y-%m-%d} 解除" if f.lifted_at else "，整顿中") for f in r.flagged)
    return (r.branch.code, r.branch.name, r.committee, "、".join(r.secretaries) or "（空缺）",
            lg.tasks_due, lg.reported, lg.on_time, r.on_time_rate, lg.overdue, r.returned, lg.backfilled,
            lg.corrected, *(f"{r.quota[kind][0]}/{r.quota[kind][1]}" for kind in KINDS),
            r.mobile_members, f"{r.mobile_reached}/{r.mobile_due}", r.volunteer_hours,
            *(stages.get(stage, 0) for stage in DEVELOPMENT_STAGES), r.joined_in_year("probation_on"),
            r.joined_in_year("full_on"), len(r.items), closed, len(r.items) - closed, flags)


def detail_rows(r: BranchReview) -> list[tuple]:
    code = r.branch.code
    rows = [(code, *row) for row in ledger_rows(r.ledger)]
    rows += [(code, "志愿服务", str(v.day)[:7], f"{v.member_name} {v.hours:g} 小时", v.day, "", "", v.member_name,
              cell(v.note), "", "") for v in r.volunteer]
    for d in r.development:
        steps = "；".join(f"{step} {day}" for step, day in dates_of(d).items() if day)
        rows.append((code, "发展党员", "", d.name, None, stage_of(d) or "", d.updated_at, "", steps, "", ""))
    for i in r.items:
        t = i.task
        state = f"已销号（{i.item.closed_at:%Y-%m-%d}）{i.item.close_note or ''}" if i.closed else "未销号"
        rows.append((code, "整改事项", t.month, f"{t.month} 第{t.number}项 {t.title}", t.deadline, state,
                     i.item.received_at, "", "", "", ""))
    return rows


def review_sheets(reviews: list[BranchReview]) -> list[Sheet]:
    detail = [row for r in reviews for row in detail_rows(r)]
    return [Sheet("述职评议", SUMMARY_HEADERS, [summary_row(r) for r in reviews]),
            Sheet("依据", DETAIL_HEADERS, detail)]
