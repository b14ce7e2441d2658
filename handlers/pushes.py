"""What the scheduler pushes, as delivery rows keyed (target, purpose,
period). Deciding and rendering only; the delivery worker sends."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.wecom.limits import CONTENT_LIMIT, split_message
from handlers.render import day, task_label
from handlers.render.sheet import render_sheet
from storage.models import BRANCH, REPORTING_ROLES, CheckIn, Member, Organization
from storage.month import Month
from storage.tasks import TaskBook
from storage.workdays import next_workday

REMIND_DAYS_BEFORE = (3, 1)


def branch_address(branch: Organization) -> tuple[str, str]:
    """A branch group: its robot webhook key, else its app chat id."""
    if branch.robot_key:
        return "robot", branch.robot_key
    return "appchat", branch.chat_id or ""


def rows_for(target: str, purpose: str, period: str, channel: str, address: str,
             body: str) -> list[dict]:
    """One row per part; a long text becomes parts `period`, `period#2`, …"""
    parts = split_message(body, CONTENT_LIMIT[channel])
    return [{"target": target, "purpose": purpose, "period": period if i == 0 else f"{period}#{i + 1}",
             "channel": channel, "address": address, "body": part}
            for i, part in enumerate(parts)]


def to_branch(branch: Organization, purpose: str, period: str, body: str) -> list[dict]:
    return rows_for(branch.code, purpose, period, *branch_address(branch), body)


def to_member(member: Member, purpose: str, period: str, body: str) -> list[dict]:
    return rows_for(member.wecom_userid, purpose, period, "user", member.wecom_userid, body)


def active_branches(session: Session, codes: list[str] | None = None) -> list[Organization]:
    query = select(Organization).where(Organization.type == BRANCH, Organization.active)
    if codes:
        query = query.where(Organization.code.in_(codes))
    return list(session.scalars(query.order_by(Organization.code)))


def monthly_sheets(session: Session, month: Month, today: date, codes: list[str] | None = None) -> list[dict]:
    branches = active_branches(session, codes)
    book = TaskBook(session, month, branches)
    rows = []
    for branch in branches:
        body = render_sheet(branch.name, month, book.this_month(branch), book.owed(branch), today)
        rows += to_branch(branch, "monthly-sheet", str(month), body)
    return rows


def deadline_reminders(session: Session, today: date) -> list[dict]:
    """3 days and 1 day before a deadline, to branches that have not reported."""
    branches = active_branches(session)
    horizon = max(today + timedelta(days=max(REMIND_DAYS_BEFORE)), next_workday(today))
    # Near a month's end the reminders reach into the next month too.
    books = [TaskBook(session, m, branches) for m in sorted({Month.of(today), Month.of(horizon)})]
    rows = []
    for branch in branches:
        candidates = {bt.task.id: bt for book in books for bt in book.this_month(branch) + book.owed(branch)}
        for bt in candidates.values():
            due = _reminders_due(bt.task.deadline, today)
            if bt.status == "reported" or not due:
                continue
            body = (f"**截止提醒**\n{branch.name}：{task_label(bt.task)}「{bt.task.title}」"
                    f"将于{day(bt.task.deadline)}截止，尚未上报。\n完成后请回复：完成 {_ref(bt.task, today)} 说明")
            rows += to_branch(branch, f"remind-{min(due)}d", f"task-{bt.task.id}", body)
    return rows


def _reminders_due(deadline: date, today: date) -> list[int]:
    """Which of the 3-day / 1-day reminders are due today. The 1-day one
    goes on the last working day before the deadline (a Monday deadline is
    reminded on Friday: no pushes at weekends)."""
    days_left = (deadline - today).days
    if days_left <= 0:
        return []
    if next_workday(today) >= deadline:
        return [1]
    return [3] if days_left <= 3 else []


def overdue_escalations(session: Session, today: date) -> list[dict]:
    """The first working day after a deadline: the branch is told, and its
    committee's staff get one list of the branches late on that task."""
    branches = active_branches(session)
    book = TaskBook(session, Month.of(today), branches)
    rows, late_by = [], {}
    for branch in branches:
        for bt in book.this_month(branch) + book.owed(branch):
            if not bt.overdue(today):
                continue
            body = (f"**逾期提醒**\n{branch.name}：{task_label(bt.task)}「{bt.task.title}」"
                    f"已于{day(bt.task.deadline)}截止，尚未上报。请尽快完成并回复：完成 {_ref(bt.task, today)} 说明")
            rows += to_branch(branch, "overdue", f"task-{bt.task.id}", body)
            late_by.setdefault((branch.parent_id, bt.task.id), (bt.task, []))[1].append(branch)
    for (committee_id, task_id), (task, late) in late_by.items():
        body = "\n".join([f"**逾期未报：{task_label(task)}「{task.title}」（截止{day(task.deadline)}）**"]
                         + [f"- {b.name}（{b.code}）" for b in late])
        for staff in _staff_of(session, committee_id):
            rows += to_member(staff, "overdue", f"task-{task_id}", body)
    return rows


def _ref(task, today: date) -> str:
    """How to name the task in `完成 …` on `today`."""
    return str(task.number) if task.month == str(Month.of(today)) else task_label(task)


def _staff_of(session: Session, org_id: int | None) -> list[Member]:
    return list(session.scalars(select(Member).where(
        Member.org_id == org_id, Member.active, Member.wecom_userid.is_not(None))))


def _mobile_without_checkin(session: Session, today: date) -> list[Member]:
    first = today.replace(day=1)
    checked = select(CheckIn.member_id).where(CheckIn.day >= first, CheckIn.day <= today)
    return list(session.scalars(select(Member).where(
        Member.is_mobile, Member.active, Member.id.not_in(checked)).order_by(Member.org_id, Member.id)))


def mobile_reminders(session: Session, today: date) -> list[dict]:
    """The 20th: each mobile member not yet checked in this month."""
    month, rows = Month.of(today), []
    for member in _mobile_without_checkin(session, today):
        if member.wecom_userid:
            body = (f"{member.name}同志，您好！本月（{month.label}）您还没有报到。"
                    "请回复“签到”，也可以发送您的位置。")
            rows += to_member(member, "checkin-reminder", str(month), body)
    return rows


def mobile_lists(session: Session, today: date) -> list[dict]:
    """The 25th: each secretary gets the mobile members not checked in."""
    month, by_branch = Month.of(today), {}
    for member in _mobile_without_checkin(session, today):
        by_branch.setdefault(member.org_id, []).append(member)
    rows = []
    for branch_id, members in by_branch.items():
        names = "、".join(f"{m.name}（{m.outflow_city or '流入地未填'}）" for m in members)
        body = f"**流动党员报到情况**\n{month.label}尚未报到的流动党员：{names}。请主动联系。"
        for secretary in session.scalars(select(Member).where(
                Member.org_id == branch_id, Member.active, Member.role == REPORTING_ROLES[0],
                Member.wecom_userid.is_not(None))):
            rows += to_member(secretary, "mobile-list", str(month), body)
    return rows


def failure_digest(session: Session, today: date) -> list[dict]:
    """Each working morning, the org department's staff get the deliveries
    that failed since the last digest: nothing is dropped silently."""
    from storage.models import ORG_DEPARTMENT, Delivery
    since = datetime.combine(today - timedelta(days=1), time())
    failures = session.scalars(select(Delivery).where(
        Delivery.state == "failed", Delivery.claimed_at >= since,
        Delivery.purpose != "delivery-failures").order_by(Delivery.id)).all()
    if not failures:
        return []
    lines = [f"**发送失败 {len(failures)} 条（{day(today)}）**"]
    lines += [f"- {d.target} {d.purpose} {d.period}：{d.last_error}" for d in failures[:30]]
    if len(failures) > 30:
        lines.append(f"……共 {len(failures)} 条，详见管理页面或 python -m bot deliveries --failed")
    department = session.scalars(select(Organization.id).where(Organization.type == ORG_DEPARTMENT)).all()
    staff = [m for org_id in department for m in _staff_of(session, org_id)]
    return [r for m in staff for r in to_member(m, "delivery-failures", today.isoformat(), "\n".join(lines))]
