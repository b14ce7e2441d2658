"""The escalation ladder (SPEC "Escalation ladder"), for each task a branch
has neither acknowledged (收到) nor reported, by that branch's deadline
(its own, where an extension moved it), on working days only:

1. before the deadline (3 days ahead, or the last working day before it)
   the branch's group is reminded;
2. on the deadline's working day (the last one on or before it) the
   secretary — the deputy where there is none — gets a card, 收到 /
   已完成 / 申请延期 (text with the commands for WeChat-plugin users);
3. on the first working day after it the committee's staff get one list
   a day of their branches that reached this step;
4. on the third working day after it the org department's staff get
   theirs, in one daily digest.

Each step once per task and branch (storage/cards.py `take_step`: a
unique row, written with the messages), a step missed while the
scheduler was down is not sent late if a later one is due, and the ladder
stops at the first 收到 or report — it replaces the earlier separate
deadline reminder and overdue notice, so nobody hears the same thing twice."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from bot.schedule.pushes import Push
from bot.schedule.pushes.common import every_workday
from handlers.commands.cards import secretary_of, task_card
from handlers.render import day, task_label, task_ref
from storage.cards import ladder_taken, take_step
from storage.members import org_department_staff, reachable_members
from storage.month import Month
from storage.orgs import active_branches
from storage.outbox import Message, to_branch, to_member
from storage.tasks import OPEN, BranchTask, TaskBook
from storage.workdays import is_workday, next_workday

NAME = "ladder"
GROUP, SECRETARY, COMMITTEE, DIGEST = 1, 2, 3, 4
DAYS_AHEAD = 3            # step 1: this many days before the deadline
DIGEST_AFTER = 3          # step 4: on this working day after the deadline
SHOWN = 60                # lines of a digest; the rest are counted


def workdays_between(after: date, until: date) -> int:
    """Working days in (after, until]."""
    count, d = 0, after
    while d < until:
        d += timedelta(days=1)
        count += is_workday(d)
    return count


def step_due(deadline: date, today: date) -> int:
    """The highest step due on `today` (a working day) for this deadline; 0: none yet."""
    if today > deadline:
        return DIGEST if workdays_between(deadline, today) >= DIGEST_AFTER else COMMITTEE
    if today == deadline or next_workday(today) > deadline:
        return SECRETARY
    if (deadline - today).days <= DAYS_AHEAD:
        return GROUP
    return 0


def messages(session: Session, today: date, period: str) -> list[Message]:
    now = datetime.combine(today, time(9, 5))  # the push's own time, for the rows it writes
    branches = active_branches(session)
    horizon = max(today + timedelta(days=DAYS_AHEAD), next_workday(today))
    # Near a month's end the ladder reaches into the next month's tasks too.
    books = [TaskBook(session, m, branches) for m in sorted({Month.of(today), Month.of(horizon)})]
    climbing: list[tuple[int, BranchTask, object]] = []
    for branch in branches:
        mine = {bt.task.id: bt for book in books
                for bt in book.this_month(branch) + book.owed(branch) + book.rectification(branch)}
        for bt in mine.values():
            # not acknowledged, not reported (a returned report is rework the group was told of)
            if bt.shown_state == OPEN and (step := step_due(bt.deadline, today)):
                climbing.append((step, bt, branch))
    taken = ladder_taken(session, sorted({bt.task.id for _, bt, _ in climbing}))
    out: list[Message] = []
    committee: dict[int | None, list[tuple[BranchTask, object]]] = defaultdict(list)
    digest: list[tuple[BranchTask, object]] = []
    for step, bt, branch in climbing:
        if taken.get((bt.task.id, branch.id), 0) >= step or not take_step(session, bt.task.id, branch.id, step,
                                                                          today, now):
            continue
        if step == GROUP:
            out.append(to_branch(branch, f"{NAME}-{GROUP}", f"task-{bt.task.id}", _group(bt, branch, today)))
        elif step == SECRETARY:
            person = secretary_of(session, branch)
            if person is not None:
                out.append(task_card(session, bt.task, branch, person, f"{NAME}-{SECRETARY}", "今日截止",
                                     f"{NAME}-{SECRETARY}", f"task-{bt.task.id}", now))
        elif step == COMMITTEE:
            committee[branch.parent_id].append((bt, branch))
        else:
            digest.append((bt, branch))
    for committee_id, late in committee.items():
        body = _list(f"**逾期未报（{day(today)}）：下属支部尚未收到或上报**", late, today)
        out += [to_member(staff, f"{NAME}-{COMMITTEE}", str(today), body)
                for staff in reachable_members(session, committee_id)]
    if digest:
        body = _list(f"**逾期未报汇总（{day(today)}）：已逾期{DIGEST_AFTER}个工作日仍未收到或上报**", digest, today)
        out += [to_member(staff, f"{NAME}-{DIGEST}", str(today), body) for staff in org_department_staff(session)]
    return out


def _group(bt: BranchTask, branch, today: date) -> str:
    ref = task_ref(bt.task, today)
    return (f"**截止提醒**\n{branch.name}：{task_label(bt.task)}「{bt.task.title}」将于{day(bt.deadline)}截止，"
            f"尚未上报。\n收到请回复：收到 {ref}\n完成后请回复：完成 {ref} 说明")


def _list(heading: str, late: list[tuple[BranchTask, object]], today: date) -> str:
    """One line per task: its late branches."""
    by_task: dict[int, tuple[BranchTask, list]] = {}
    for bt, branch in late:
        by_task.setdefault(bt.task.id, (bt, []))[1].append(branch)
    lines = [heading]
    for bt, branches in sorted(by_task.values(), key=lambda x: (x[0].task.month, x[0].task.number)):
        names = "、".join(f"{b.name}（{b.code}）" for b in sorted(branches, key=lambda b: b.code))
        lines.append(f"- {task_label(bt.task)}「{bt.task.title}」（截止{day(bt.deadline)}）：{names}")
    if len(lines) > SHOWN:
        lines = lines[:SHOWN] + [f"……共 {len(lines) - 1} 项，详见工作台任务矩阵"]
    lines.append("可发送“催办 N”提醒，或在工作台查看。")
    return "\n".join(lines)


PUSH = Push(NAME, every_workday, messages)
