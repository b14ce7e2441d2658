"""Tasks as a branch sees them: this month's, with their state, plus what is
still owed from earlier months. `TaskBook` loads a year's tasks and their
states in two queries, so a sheet for 10,000 branches costs no more queries
than a sheet for one."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from storage.models import Assignment, Organization, RectificationItem, Task
from storage.month import Month
from storage.orgs import targets

OPEN, REPORTED, RETURNED = "open", "reported", "returned"
# Not a stored state: an open task the branch said 收到 to (Assignment.acknowledged_at).
ACKNOWLEDGED = "acknowledged"


@dataclass(frozen=True)
class BranchTask:
    task: Task
    state: str                # open | reported | returned
    return_reason: str | None = None
    acknowledged_at: datetime | None = None
    own_deadline: date | None = None  # an extension granted to this branch

    @property
    def deadline(self) -> date:
        """This branch's deadline: its extension's, else the task's."""
        return self.own_deadline or self.task.deadline

    @property
    def shown_state(self) -> str:
        """open, acknowledged (open, but 收到), reported or returned."""
        return ACKNOWLEDGED if self.state == OPEN and self.acknowledged_at else self.state

    def overdue(self, today: date) -> bool:
        return self.state != REPORTED and self.deadline < today


class TaskBook:
    """The tasks of `month` and of the earlier months of its year, with the
    state of each for the branches asked about."""

    def __init__(self, session: Session, month: Month, branches: list[Organization] | None = None):
        self.month, self.first_day = str(month), month.first_day
        # Plain rows, not ORM objects: read-only here, and several times cheaper.
        run = session.connection().execute
        # Rectification items (整改事项) are listed apart, and stay — whatever
        # their month or year — until staff close them.
        few = branches is not None and len(branches) < 500
        span = {"first": str(month.january), "last": self.month}
        # An item targets its one branch: a branch's 任务 reads that branch's items only.
        items = (run(_ITEMS_OF, {**span, "branch_ids": [b.id for b in branches]}) if few
                 else run(_ITEMS, span)).all()
        self.item_ids = {i.task_id for i in items}
        open_ids = [i.task_id for i in items if i.closed_at is None]
        self.items = run(_TASKS_BY_ID, {"ids": open_ids}).all() if open_ids else []
        year = run(_YEAR_TASKS, {"first": str(month.january), "last": self.month}).all()
        self.tasks = [t for t in year if t.id not in self.item_ids]
        params = {"task_ids": [t.id for t in year] + open_ids}
        query = _STATES
        if branches is not None and len(branches) < 500:
            query, params["branch_ids"] = _STATES_OF_BRANCHES, [b.id for b in branches]
        self.states = {(a.task_id, a.branch_id): a for a in run(query, params)} \
            if params["task_ids"] else {}

    def _with_state(self, task: Task, branch: Organization) -> BranchTask:
        a = self.states.get((task.id, branch.id))
        return BranchTask(task, a.state, a.return_reason, a.acknowledged_at, a.deadline) if a \
            else BranchTask(task, OPEN)

    def of(self, task, branch: Organization) -> BranchTask:
        """One task for one branch: state, 收到, own deadline."""
        return self._with_state(task, branch)

    def state_of(self, task, branch: Organization) -> str:
        a = self.states.get((task.id, branch.id))
        return a.state if a else OPEN

    def this_month(self, branch: Organization) -> list[BranchTask]:
        return [self._with_state(t, branch) for t in self.tasks
                if t.month == self.month and targets(t, branch)]

    def owed(self, branch: Organization) -> list[BranchTask]:
        """Earlier months' tasks of this year the branch has not reported.
        A recurring duty is carried only while it still runs (a quarterly
        one, due at the quarter's end); once past, 三会一课 are followed
        through the meeting log instead of piling up on every sheet."""
        mine = (self._with_state(t, branch) for t in self.tasks
                if t.month < self.month and (not t.recurring or t.deadline >= self.first_day)
                and targets(t, branch))
        return [bt for bt in mine if bt.state != REPORTED]

    def rectification(self, branch: Organization) -> list[BranchTask]:
        """The branch's open rectification items (整改事项), reported or not."""
        return [self._with_state(t, branch) for t in self.items if targets(t, branch)]


_STATES = select(Assignment.task_id, Assignment.branch_id, Assignment.state, Assignment.return_reason,
                 Assignment.acknowledged_at, Assignment.deadline) \
    .where(Assignment.task_id.in_(bindparam("task_ids", expanding=True)))
_STATES_OF_BRANCHES = _STATES.where(Assignment.branch_id.in_(bindparam("branch_ids", expanding=True)))
# Open items anywhere, closed ones only where they would otherwise show (the year so far).
_ITEMS = (select(RectificationItem.task_id, RectificationItem.closed_at)
          .join(Task, RectificationItem.task_id == Task.id)
          .where(or_(RectificationItem.closed_at.is_(None),
                     and_(Task.month >= bindparam("first"), Task.month <= bindparam("last")))))
_ITEMS_OF = _ITEMS.where(RectificationItem.branch_id.in_(bindparam("branch_ids", expanding=True)))
_TASKS_BY_ID = (select(Task.__table__).where(Task.id.in_(bindparam("ids", expanding=True)))
                .order_by(Task.month, Task.number))
_YEAR_TASKS = (select(Task.__table__).where(Task.month >= bindparam("first"), Task.month <= bindparam("last"))
               .order_by(Task.month, Task.number))


def branch_tasks(session: Session, branch: Organization, month: Month) -> list[BranchTask]:
    return TaskBook(session, month, [branch]).this_month(branch)


def branch_task(session: Session, task: Task, branch: Organization) -> BranchTask:
    """One task's state, acknowledgement and deadline for one branch."""
    a = session.execute(_STATES.where(Assignment.branch_id == branch.id),
                        {"task_ids": [task.id]}).first()
    return BranchTask(task, a.state, a.return_reason, a.acknowledged_at, a.deadline) if a \
        else BranchTask(task, OPEN)


def find_task(session: Session, month: Month, number: int) -> Task | None:
    return session.scalar(select(Task).where(Task.month == str(month), Task.number == number))


def state_of(session: Session, task: Task, branch: Organization) -> str:
    state = session.scalar(select(Assignment.state).where(
        Assignment.task_id == task.id, Assignment.branch_id == branch.id))
    return state or OPEN


def add_task(session: Session, **fields) -> Task:
    """A new task in its month, numbered next (numbers already on a sheet never move)."""
    task = Task(number=next_number(session, fields["month"]), **fields)
    session.add(task)
    session.flush()
    return task


def next_number(session: Session, month: str) -> int:
    return (session.scalar(select(func.max(Task.number)).where(Task.month == month)) or 0) + 1


def task_by_id(session: Session, task_id: int) -> Task | None:
    return session.get(Task, task_id)
