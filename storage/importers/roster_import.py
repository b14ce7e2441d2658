"""Applying a checked roster in one transaction: add, update, and mark as
inactive whoever is gone (history is never deleted). Re-importing the same
roster changes nothing, not even `updated_at`.

A roster that would deactivate more than a share of the active members or
organisations (default 20 %) is refused before anything is written, unless
the operator says so: a file holding only the 组织部 row, or one sheet of
several, would otherwise lock every branch out of the bot at once.

Rows go in with bulk INSERT/UPDATE executemany, so 100,000 members cost
about as much to write as to read."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from tqdm import tqdm

from storage.addresses import org_owner, sync_kinds
from storage.development import dates_of, save_dates
from storage.models import Development, Member, Organization
from storage.importers.development_check import merged_problem
from storage.importers.roster_check import check_roster, raise_problems
from storage.importers.roster_read import RosterError, read_roster

ORG_FIELDS = ("name", "type", "parent_id", "category", "term_start", "term_end", "active")
# Roster columns that are a branch group's addresses, by address kind.
ADDRESS_COLUMNS = {"wecom_robot": "robot_key", "wecom_appchat": "chat_id"}
MEMBER_FIELDS = ("name", "wecom_userid", "phone", "org_id", "role", "status", "is_mobile",
                 "inflow_city", "retired", "joined_on", "active")
PROGRESS_FROM = 20_000  # rows; smaller imports finish before a bar is useful
MAX_DEACTIVATE_SHARE = 0.2  # the default of config roster.max_deactivate_share


class MassDeactivation(RosterError):
    """The roster would deactivate more than the allowed share; nothing was written."""


@dataclass
class ImportSummary:
    added: int = 0
    updated: int = 0
    deactivated: int = 0
    unchanged: int = 0
    changed: set = field(default_factory=set, repr=False)  # keys added or updated

    def __str__(self) -> str:
        return (f"新增 {self.added}，更新 {self.updated}，"
                f"停用 {self.deactivated}，未变 {self.unchanged}")


def import_roster(session: Session, path: str | Path, now: datetime, *,
                  max_deactivate_share: float = MAX_DEACTIVATE_SHARE,
                  allow_mass_deactivate: bool = False) -> dict[str, ImportSummary]:
    """Read, check, and apply; raises RosterError (MassDeactivation for too
    many leaving) before writing anything. A roster with a 发展党员 sheet
    (development.csv) also updates the development register: the steps it
    lists, laid over what the register holds, checked together."""
    orgs, members, development = check_roster(read_roster(path), now.date())
    if development:
        _check_against_register(session, development, now)
    if not allow_mass_deactivate:
        _refuse_mass_deactivation(session, orgs, members, max_deactivate_share)
    org_summary = _apply_orgs(session, orgs, now)
    member_summary = _apply_members(session, members, now)
    summaries = {"orgs": org_summary, "members": member_summary}
    if development is not None:
        summaries["development"] = _apply_development(session, development, now)
    return summaries


def _register(session: Session) -> dict[tuple[str, str], Development]:
    return {(code, d.name): d for d, code in session.execute(
        select(Development, Organization.code).join(Organization, Development.branch_id == Organization.id))}


def _check_against_register(session: Session, people: list[dict], now: datetime) -> None:
    register = _register(session)
    problems = [bad for person in people
                if (bad := merged_problem(person, dates_of(register[key]) if (key := (
                    person["branch_code"], person["name"])) in register else None, now.date()))]
    raise_problems(problems)


def _apply_development(session: Session, people: list[dict], now: datetime) -> ImportSummary:
    ids = dict(session.execute(select(Organization.code, Organization.id)).all())
    known = set(_register(session))
    summary = ImportSummary()
    for person in people:
        _, changed = save_dates(session, ids[person["branch_code"]], person["name"], person["dates"], now)
        if (person["branch_code"], person["name"]) not in known:
            summary.added += 1
        elif changed:
            summary.updated += 1
        else:
            summary.unchanged += 1
    return summary


def _refuse_mass_deactivation(session: Session, orgs: list[dict], members: list[dict], share: float) -> None:
    """Count who would be deactivated, the same way _apply does, before writing."""
    leaving = {}
    for model, key, records in ((Member, Member.roster_key, members), (Organization, Organization.code, orgs)):
        active = set(session.scalars(select(key).where(model.active)))
        gone = len(active - {r[key.key] for r in records})
        if active and gone > share * len(active):
            leaving[model] = (gone, len(active))
    if not leaving:
        return
    counts = "、".join(f"{gone:,} {unit}（现有 {active:,} 的 {gone / active:.0%}）"
                      for model, unit in ((Member, "名党员"), (Organization, "个组织")) if model in leaving
                      for gone, active in [leaving[model]])
    raise MassDeactivation([
        f"这份名册将停用 {counts}，超过允许的 {share:.0%}。请先核对名册是否完整"
        "（是否漏了工作表或行，或只导出了部分组织）；如果确实要停用这么多，请加 --allow-mass-deactivate "
        "重新导入：python -m bot import-roster --allow-mass-deactivate 名册文件"])


def _apply(session: Session, model, key: str, fields: tuple[str, ...],
           records: list[dict], now: datetime, deactivate: bool = True) -> ImportSummary:
    """Upsert `records` (dicts with `key` and `fields`) into `model`; rows not
    among them are marked inactive when `deactivate`."""
    summary = ImportSummary()
    cols = [getattr(model, f) for f in ("id", key, *fields)]
    existing = {row[1]: row for row in session.execute(select(*cols))}
    inserts, updates = [], []
    for record in tqdm(records, desc="写入", unit="行", disable=len(records) < PROGRESS_FROM or None):
        record["active"] = True  # records are ours to change: no copies of 100k dicts
        old = existing.pop(record[key], None)
        if old is None:
            record["received_at"] = record["updated_at"] = now
            inserts.append(record)
            summary.changed.add(record[key])
        elif tuple(old[2:]) != tuple(record[f] for f in fields):
            record["id"], record["updated_at"] = old[0], now
            updates.append(record)
            summary.changed.add(record[key])
        else:
            summary.unchanged += 1
    gone = [{"id": row[0], "active": False, "updated_at": now}
            for row in existing.values() if row[-1] and deactivate]
    if inserts:  # Core insert: one executemany, not the ORM's per-shape batches
        session.execute(insert(model.__table__), inserts)
    for batch in (updates, gone):
        if batch:
            session.execute(update(model), batch)
    summary.added, summary.updated, summary.deactivated = len(inserts), len(updates), len(gone)
    return summary


def _apply_orgs(session: Session, orgs: list[dict], now: datetime) -> ImportSummary:
    # Parents first, so every parent has an id when its children are written.
    ids = dict(session.execute(select(Organization.code, Organization.id)).all())
    summary = ImportSummary()
    wanted = {org_owner(o["code"]): {kind: o[column] for kind, column in ADDRESS_COLUMNS.items()}
              for o in orgs}
    for depth_group in _group_by_depth(orgs):
        records = [{k: v for k, v in o.items() if k not in ("parent_code", *ADDRESS_COLUMNS.values())}
                   | {"parent_id": ids.get(o["parent_code"])} for o in depth_group]
        part = _apply(session, Organization, "code", ORG_FIELDS, records, now, deactivate=False)
        ids = dict(session.execute(select(Organization.code, Organization.id)).all())
        for name in ("added", "updated", "unchanged"):
            setattr(summary, name, getattr(summary, name) + getattr(part, name))
        summary.changed |= part.changed
    # A new group address is a change of an org the fields alone call unchanged.
    readdressed = {owner for owner in sync_kinds(session, wanted, now)} - {org_owner(c) for c in summary.changed}
    summary.unchanged, summary.updated = summary.unchanged - len(readdressed), summary.updated + len(readdressed)
    present = {o["code"] for o in orgs}
    gone_active = [i for code, i in session.execute(
        select(Organization.code, Organization.id).where(Organization.active))
        if code not in present]
    if gone_active:
        session.execute(update(Organization), [{"id": i, "active": False, "updated_at": now}
                                               for i in gone_active])
    summary.deactivated = len(gone_active)
    return summary


def _depth(org: dict, by_code: dict[str, dict]) -> int:
    depth = 0
    while org["parent_code"]:
        org, depth = by_code[org["parent_code"]], depth + 1
    return depth


def _group_by_depth(orgs: list[dict]) -> list[list[dict]]:
    by_code = {o["code"]: o for o in orgs}
    groups: dict[int, list[dict]] = {}
    for org in orgs:
        groups.setdefault(_depth(org, by_code), []).append(org)
    return [groups[d] for d in sorted(groups)]


def _apply_members(session: Session, members: list[dict], now: datetime) -> ImportSummary:
    org_ids = dict(session.execute(select(Organization.code, Organization.id)).all())
    for member in members:
        member["org_id"] = org_ids[member.pop("branch_code")]
    return _apply(session, Member, "roster_key", MEMBER_FIELDS, members, now)
