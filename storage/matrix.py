"""The task matrix: branches × a month's tasks, each cell the state of one
task for one branch with its current report's time, note, evidence count
and marks. One query of one table whatever the size: an assignment sums
up its cell's reports as they arrive (storage/reports.py), and the
database cuts times to text the page shows as it is ("MM-DD HH:MM"), so
1,000 branches × 50 tasks cost one pass over ~50,000 short rows and no
datetime objects.

`cell_rows` is the bare query (bench/matrix_bench.py compares the whole
page with it); `grid` lays its rows out as the page's rows of cells."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Row, String, bindparam, cast, func, select
from sqlalchemy.orm import Session

from storage.meetings import backfilled_duties
from storage.models import MEETING_KINDS, Assignment, Evidence, Member, Organization, Report, Task
from storage.month import Month
from storage.orgs import targets
from storage.tasks import ACKNOWLEDGED, OPEN, REPORTED, RETURNED

OVERDUE = "overdue"  # open, and the deadline (the branch's own, if extended) has passed
STATUSES = (REPORTED, RETURNED, ACKNOWLEDGED, OPEN, OVERDUE)
# a cell's state as the page's data names it
CODES = {REPORTED: "r", RETURNED: "b", ACKNOWLEDGED: "a", OPEN: "o", OVERDUE: "x"}
NOTE_CHARS = 24      # of a note shown in a cell's tooltip (the report page has it all)
BRANCH_FILTER_UP_TO = 500  # fewer branches than this: filter in SQL, else fetch the month and drop
RESUBMITTED, LATE, CORRECTED = "补", "逾", "更"  # a cell's marks
BACKFILLED = "录"  # the duty's report is a meeting logged days after it was held: the page says 补记录


def month_tasks(session: Session, month: Month) -> list[Row]:
    """The month's tasks in number order (plain rows)."""
    return session.connection().execute(_TASKS, {"month": str(month)}).all()


def cell_rows(session: Session, task_ids: list[int], branch_ids: list[int] | None) -> list[Row]:
    """The bare query: one row per cell with a report, a return, a 收到 or
    an extension — (task_id, branch_id, state, return_reason, at
    "YYYY-MM-DD HH:MM", first day "YYYY-MM-DD", note, evidence,
    corrections, submissions, acknowledged "YYYY-MM-DD HH:MM", the
    branch's own deadline "YYYY-MM-DD")."""
    if not task_ids:
        return []
    params: dict = {"task_ids": task_ids}
    query = _CELLS
    if branch_ids is not None and len(branch_ids) < BRANCH_FILTER_UP_TO:
        params["branch_ids"], query = branch_ids, _CELLS_OF
    return session.connection().execute(query, params).all()


def _templates(tasks: list[Row], branches: list[Organization], today: date) -> list[list]:
    """Each branch's row before any report: ["o"] / ["x"] where a task is
    aimed at it, 0 elsewhere. Branches of one 领域 share a row, but for
    the tasks that name branches by code."""
    blank = [["x"] if t.deadline < today else ["o"] for t in tasks]
    by_code = [i for i, t in enumerate(tasks) if t.target_kind == "codes"]
    codes = {i: set(tasks[i].target_values.split(",")) for i in by_code}
    shared: dict = {}
    rows = []
    for branch in branches:
        if branch.category not in shared:
            shared[branch.category] = [blank[i] if t.target_kind != "codes" and targets(t, branch) else 0
                                       for i, t in enumerate(tasks)]
        row = shared[branch.category][:]
        for i in by_code:
            if branch.code in codes[i]:
                row[i] = blank[i]
        rows.append(row)
    return rows


def grid(session: Session, tasks: list[Row], branches: list[Organization], today: date) -> list[list]:
    """One list per branch, one entry per task: 0 where the task is not
    aimed at the branch, ["o"] / ["x"] where nothing was reported (open /
    overdue), ["a", "MM-DD HH:MM"] where the branch said 收到 (and is not
    overdue), else [state, "MM-DD HH:MM", note, evidence count, marks]
    (+ the reason, for a returned report). A meeting's duty completed by a
    back-filled meeting is marked BACKFILLED: read apart, from the few
    reports a meeting made, so the cells' one-table query stays as it is."""
    column = {t.id: i for i, t in enumerate(tasks)}
    deadline = [str(t.deadline) for t in tasks]
    rows = _templates(tasks, branches, today)
    row_of = {b.id: r for r, b in enumerate(branches)}
    day = str(today)
    duties = [t.id for t in tasks if t.duty in MEETING_KINDS]
    late = backfilled_duties(session, duties, list(row_of) if len(row_of) < BRANCH_FILTER_UP_TO else None) \
        if duties else {}
    for task_id, branch_id, state, reason, at, first, note, files, corrections, submissions, acked, own in \
            cell_rows(session, list(column), list(row_of)):
        r = row_of.get(branch_id)
        if r is None:
            continue
        i = column[task_id]
        due = own or deadline[i]
        if state == OPEN:  # a 收到 or an extension, nothing reported yet
            rows[r][i] = ["x"] if due < day else (["a", acked[5:]] if acked else ["o"])
            continue
        marks = (RESUBMITTED if submissions > 1 else "") + (LATE if first and first > due else "") + \
            (CORRECTED if corrections else "") + (BACKFILLED if late and (task_id, branch_id) in late else "")
        if state == REPORTED:
            rows[r][i] = ["r", at[5:] if at else "", note or "", files, marks]
        else:
            rows[r][i] = ["b", at[5:] if at else "", note or "", files, marks, reason or ""]
    return rows


def evidence_of(session: Session, report_ids: list[int]) -> dict[int, list[Evidence]]:
    """report id → its evidence files (for a task's page)."""
    found: dict[int, list[Evidence]] = {}
    if report_ids:
        for e in session.scalars(select(Evidence).where(Evidence.report_id.in_(report_ids)).order_by(Evidence.id)):
            found.setdefault(e.report_id, []).append(e)
    return found


def reports_of(session: Session, task_id: int, branch_ids: list[int]) -> dict[int, list[Report]]:
    """branch id → every version of its report of the task, oldest first (with the reporter)."""
    found: dict[int, list[Report]] = {}
    query = (select(Report).where(Report.task_id == task_id, Report.branch_id.in_(branch_ids))
             .order_by(Report.id))
    for report in session.scalars(query):
        found.setdefault(report.branch_id, []).append(report)
    return found


def assignments_of(session: Session, task_id: int) -> dict[int, Assignment]:
    return {a.branch_id: a for a in session.scalars(select(Assignment).where(Assignment.task_id == task_id))}


def evidence_file(session: Session, evidence_id: int) -> tuple[Evidence, int] | None:
    """An evidence row and the branch whose report it belongs to."""
    row = session.execute(select(Evidence, Report.branch_id).join(Report, Evidence.report_id == Report.id)
                          .where(Evidence.id == evidence_id)).first()
    return (row[0], row[1]) if row else None


_TASKS = (select(Task.id, Task.month, Task.number, Task.title, Task.deadline, Task.target_kind, Task.target_values,
                 Task.evidence, Task.recurring, Task.duty)
          .where(Task.month == bindparam("month")).order_by(Task.number))
def _text(column, length: int):
    """A time as text, cut: "YYYY-MM-DD HH:MM" (16) or the day (10), on every dialect."""
    return func.substr(cast(column, String), 1, length)


_CELLS = (select(Assignment.task_id, Assignment.branch_id, Assignment.state, Assignment.return_reason,
                 _text(Assignment.reported_at, 16), _text(Assignment.first_reported_at, 10),
                 func.substr(Assignment.note, 1, NOTE_CHARS), Assignment.evidence_count, Assignment.corrections,
                 Assignment.submissions, _text(Assignment.acknowledged_at, 16), _text(Assignment.deadline, 10))
          .where(Assignment.task_id.in_(bindparam("task_ids", expanding=True))))
_CELLS_OF = _CELLS.where(Assignment.branch_id.in_(bindparam("branch_ids", expanding=True)))


def member_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Member.id, Member.name).where(Member.id.in_(list(ids)))).all())
