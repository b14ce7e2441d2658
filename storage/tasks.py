"""Tasks as a branch sees them: this month's, with their state, plus what is
still owed from earlier months. `TaskBook` loads a year's tasks and their
states in two queries, so a sheet for 10,000 branches costs no more queries
than a sheet for one."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from storage.models import Assignment, Organization, Task
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
        self.tasks = session.connection().execute(_YEAR_TASKS, {"first": str(month.january),
                                                                "last": self.month}).all()
        params = {"task_ids": [t.id for t in self.tasks]}
        query = _STATES
        if branches is not None and len(branches) < 500:
            query, params["branch_ids"] = _STATES_OF_BRANCHES, [b.id for b in branches]
        self.states = {(a.task_id, a.branch_id): a for a in session.connection().execute(query, params)} \
            if self.tasks else {}

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


_STATES = select(Assignment.task_id, Assignment.branch_id, Assignment.state, Assignment.return_reason,
                 Assignment.acknowledged_at, Assignment.deadline) \
    .where(Assignment.task_id.in_(bindparam("task_ids", expanding=True)))
_STATES_OF_BRANCHES = _STATES.where(Assignment.branch_id.in_(bindparam("branch_ids", expanding=True)))
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
