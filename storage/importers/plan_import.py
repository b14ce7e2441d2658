"""Applying a plan: tasks keyed by their natural key, so re-importing the
same plan changes nothing and an edited plan updates in place. A new task
takes the next free number N of its month, so numbers already on a sheet
never move."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import BRANCH, Organization, Plan, Task
from storage.importers.plan_read import PlanError, PlanSpec, TaskSpec, parse_plan
from storage.importers.roster_import import ImportSummary
from storage.tasks import next_number


def import_plan(session: Session, path: str | Path, now: datetime) -> ImportSummary:
    path = Path(path)
    if not path.is_file():
        raise PlanError([f"{path}：文件不存在"])
    codes = set(session.scalars(select(Organization.code).where(Organization.type == BRANCH)))
    spec = parse_plan(path.read_text("utf-8"), path.name, codes)
    plan = session.scalar(select(Plan).where(Plan.year == spec.year))
    if plan is None:
        plan = Plan(year=spec.year, issuer=spec.issuer, source=path.name, received_at=now)
        session.add(plan)
        session.flush()
    plan.issuer, plan.source = spec.issuer, path.name
    return _apply_tasks(session, plan, spec, now)


def _apply_tasks(session: Session, plan: Plan, spec: PlanSpec, now: datetime) -> ImportSummary:
    existing = {t.natural_key: t for t in session.scalars(
        select(Task).where(Task.natural_key.in_([s.natural_key for s in spec.tasks])))}
    summary = ImportSummary()
    for item in spec.tasks:
        fields = _fields(item, spec.issuer)
        task = existing.get(item.natural_key)
        if task is None:
            session.add(Task(plan_id=plan.id, natural_key=item.natural_key, month=item.month,
                             number=next_number(session, item.month), received_at=now, **fields))
            session.flush()
            summary.added += 1
        elif any(getattr(task, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(task, k, v)
            summary.updated += 1
        else:
            summary.unchanged += 1
    return summary


def _fields(item: TaskSpec, issuer: str) -> dict:
    return {"title": item.title, "deadline": item.deadline, "target_kind": item.target_kind,
            "target_values": ",".join(item.target_values), "evidence": item.evidence,
            "note": item.note, "recurring": item.recurring, "duty": item.duty, "issuer": issuer,
            "theme": item.theme, "held_on": item.held_on}
