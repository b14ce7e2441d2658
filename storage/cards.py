"""One tap: acknowledgements (收到), extension requests (申请延期) and their
decisions, the cards whose buttons carry them, and the escalation ladder's
steps. Data only: what the cards say is the handlers' (handlers/commands/cards.py)."""
from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.insert_ignore import insert_ignore
from storage.models import Assignment, Card, ExtensionRequest, LadderStep, Organization, Task
from storage.reports import EVIDENCE_WINDOW
from storage.tasks import OPEN

PENDING, GRANTED, REFUSED = "pending", "granted", "refused"
TASK_CARD, DAYS_CARD, DECISION_CARD = "task", "days", "decision"


def assignment(session: Session, task: Task, branch: Organization, now: datetime) -> Assignment:
    """The task's row for the branch, made (open) if it has none yet."""
    row = session.scalar(select(Assignment).where(Assignment.task_id == task.id, Assignment.branch_id == branch.id))
    if row is None:
        row = Assignment(task_id=task.id, branch_id=branch.id, state=OPEN, evidence_count=0, corrections=0,
                         submissions=0, received_at=now, updated_at=now)
        session.add(row)
        session.flush()
    return row


def acknowledge(session: Session, task: Task, branch: Organization, member_id: int,
                now: datetime) -> tuple[datetime, bool]:
    """Record the branch's 收到 of a task: (when it was acknowledged, whether
    just now). A second 收到 keeps the first one's time."""
    row = assignment(session, task, branch, now)
    if row.acknowledged_at is not None:
        return row.acknowledged_at, False
    row.acknowledged_at, row.acknowledged_by, row.updated_at = now, member_id, now
    return now, True


def own_deadline(session: Session, task: Task, branch: Organization) -> date:
    """The branch's deadline for the task: an extension's, else the task's."""
    found = session.scalar(select(Assignment.deadline).where(Assignment.task_id == task.id,
                                                             Assignment.branch_id == branch.id))
    return found or task.deadline


# ---- cards --------------------------------------------------------------------

def new_card(session: Session, recipient: str, kind: str, task: Task, branch: Organization, step: str,
             now: datetime, extension_id: int | None = None) -> str:
    """A card for `recipient` about a task and branch; its random key (what
    its buttons carry, 24 characters of [A-Za-z0-9_-])."""
    key = secrets.token_urlsafe(18)
    session.add(Card(key=key, recipient=recipient, kind=kind, task_id=task.id, branch_id=branch.id, step=step,
                     extension_id=extension_id, received_at=now))
    return key


def card_by_key(session: Session, key: str) -> Card | None:
    if not key or len(key) > 32:
        return None
    return session.scalar(select(Card).where(Card.key == key))


def mark_card(card: Card, action: str, now: datetime) -> None:
    card.last_action, card.acted_at = action, now




def recent_card_done(session: Session, recipient: str, now: datetime) -> Card | None:
    """The person's last 已完成 click (within 10 minutes) still waiting for the
    evidence its task asks for."""
    return session.scalar(select(Card).where(
        Card.recipient == recipient, Card.last_action == "done-wait",
        Card.acted_at >= now - EVIDENCE_WINDOW).order_by(Card.acted_at.desc(), Card.id.desc()).limit(1))


# ---- extensions -----------------------------------------------------------------

def pending_extension(session: Session, task: Task, branch: Organization) -> ExtensionRequest | None:
    return session.scalar(select(ExtensionRequest).where(
        ExtensionRequest.task_id == task.id, ExtensionRequest.branch_id == branch.id,
        ExtensionRequest.state == PENDING).order_by(ExtensionRequest.id.desc()))


def request_extension(session: Session, task: Task, branch: Organization, member_id: int, days: int,
                      reason: str, now: datetime) -> tuple[ExtensionRequest, bool]:
    """A new request, or the pending one already there: (request, new)."""
    found = pending_extension(session, task, branch)
    if found is not None:
        return found, False
    request = ExtensionRequest(task_id=task.id, branch_id=branch.id, member_id=member_id, days=days,
                               reason=reason, state=PENDING, old_deadline=own_deadline(session, task, branch),
                               received_at=now)
    session.add(request)
    session.flush()
    return request, True


def extension_by_id(session: Session, request_id: int) -> ExtensionRequest | None:
    return session.get(ExtensionRequest, request_id)


def extension_to_decide(session: Session, request_id: int) -> ExtensionRequest | None:
    """The request, locked until the transaction ends (PostgreSQL, MariaDB):
    two deciders at once decide it once — the second sees it decided."""
    return session.get(ExtensionRequest, request_id, with_for_update=True)


def decide_extension(session: Session, request: ExtensionRequest, task: Task, branch: Organization,
                     granted: bool, member_id: int, new_deadline: date | None, now: datetime) -> None:
    """同意 (moves this branch's deadline to `new_deadline`) or 不同意."""
    request.state = GRANTED if granted else REFUSED
    request.decided_by, request.decided_at = member_id, now
    if granted:
        request.new_deadline = new_deadline
        row = assignment(session, task, branch, now)
        row.deadline, row.updated_at = new_deadline, now


def extensions_of(session: Session, task_id: int, branch_ids: list[int]) -> dict[int, list[ExtensionRequest]]:
    """branch id → its extension requests for the task, oldest first (a task's page)."""
    found: dict[int, list[ExtensionRequest]] = {}
    if branch_ids:
        for r in session.scalars(select(ExtensionRequest).where(
                ExtensionRequest.task_id == task_id, ExtensionRequest.branch_id.in_(branch_ids))
                .order_by(ExtensionRequest.id)):
            found.setdefault(r.branch_id, []).append(r)
    return found


# ---- the escalation ladder ------------------------------------------------------------

def ladder_taken(session: Session, task_ids: list[int]) -> dict[tuple[int, int], int]:
    """(task id, branch id) → the highest ladder step taken."""
    found: dict[tuple[int, int], int] = {}
    if task_ids:
        for task_id, branch_id, step in session.execute(select(
                LadderStep.task_id, LadderStep.branch_id, LadderStep.step).where(LadderStep.task_id.in_(task_ids))):
            found[(task_id, branch_id)] = max(step, found.get((task_id, branch_id), 0))
    return found


def take_step(session: Session, task_id: int, branch_id: int, step: int, day: date, now: datetime) -> bool:
    """Record a ladder step once; False if it was taken before."""
    return insert_ignore(session, LadderStep, [{"task_id": task_id, "branch_id": branch_id, "step": step,
                                                "day": day, "received_at": now}]) == 1
