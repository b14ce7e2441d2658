"""Tasks as a branch sees them: this month's, with their state, plus what is
still owed from earlier months."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Assignment, Organization, Task
from storage.orgs import targets

OPEN, REPORTED, RETURNED = "open", "reported", "returned"


@dataclass(frozen=True)
class BranchTask:
    task: Task
    status: str               # open | reported | returned
    return_reason: str | None = None

    def overdue(self, today: date) -> bool:
        return self.status != REPORTED and self.task.deadline < today


def month_of(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def branch_tasks(session: Session, branch: Organization, month: str) -> list[BranchTask]:
    """The month's tasks for `branch`, by number, with their state."""
    tasks = session.scalars(select(Task).where(Task.month == month).order_by(Task.number)).all()
    return _with_state(session, branch, [t for t in tasks if targets(t, branch)])


def owed_from_earlier(session: Session, branch: Organization, month: str) -> list[BranchTask]:
    """Tasks of earlier months (same year on) that the branch has not reported."""
    year_start = f"{month[:4]}-01"
    tasks = session.scalars(select(Task).where(Task.month < month, Task.month >= year_start)
                            .order_by(Task.month, Task.number)).all()
    mine = _with_state(session, branch, [t for t in tasks if targets(t, branch)])
    return [bt for bt in mine if bt.status != REPORTED]


def _with_state(session: Session, branch: Organization, tasks: list[Task]) -> list[BranchTask]:
    if not tasks:
        return []
    rows = session.scalars(select(Assignment).where(
        Assignment.branch_id == branch.id, Assignment.task_id.in_([t.id for t in tasks])))
    state = {a.task_id: a for a in rows}
    return [BranchTask(t, state[t.id].status if t.id in state else OPEN,
                       state[t.id].return_reason if t.id in state else None) for t in tasks]


def find_task(session: Session, month: str, number: int) -> Task | None:
    return session.scalar(select(Task).where(Task.month == month, Task.number == number))


def status_of(session: Session, task: Task, branch: Organization) -> str:
    status = session.scalar(select(Assignment.status).where(
        Assignment.task_id == task.id, Assignment.branch_id == branch.id))
    return status or OPEN
