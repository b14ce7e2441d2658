"""Addresses: where an owner (a branch, a member) is reached, one row per
(owner, kind, value). The kinds are channel names ("wecom_robot",
"wecom_appchat", "wecom_user", "log", …): storage keeps them as data and
never needs to know which channels exist."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from storage.insert_ignore import insert_ignore
from storage.members import active_member_by_userid, organization
from storage.models import BRANCH, Address

ORG, MEMBER = "org", "member"


def org_owner(code: str) -> str:
    return f"{ORG}:{code}"


def member_owner(userid: str) -> str:
    return f"{MEMBER}:{userid}"


def owner_parts(owner: str) -> tuple[str, str]:
    """("org", "ZB0001") of "org:ZB0001"."""
    kind, _, key = owner.partition(":")
    return kind, key


@dataclass(frozen=True)
class Route:
    """One address of an owner, as the outbound worker reads it."""
    owner: str
    kind: str
    value: str
    last_error: str | None = None


def addresses_of(session: Session, owners: Iterable[str]) -> dict[str, list[Route]]:
    """Each owner's addresses, oldest first (one query for a batch)."""
    found: dict[str, list[Route]] = {}
    owners = list(set(owners))
    for start in range(0, len(owners), 500):
        for row in session.connection().execute(_OF, {"owners": owners[start:start + 500]}):
            found.setdefault(row.owner, []).append(Route(row.owner, row.kind, row.value, row.last_error))
    return found


_OF = (select(Address.owner, Address.kind, Address.value, Address.last_error)
       .where(Address.owner.in_(bindparam("owners", expanding=True))).order_by(Address.id))


def add_address(session: Session, owner: str, kind: str, value: str, now: datetime) -> None:
    insert_ignore(session, Address, [{"owner": owner, "kind": kind, "value": value,
                                      "received_at": now, "updated_at": now}])


def remove_addresses(session: Session, owner: str, kind: str | None = None) -> None:
    query = delete(Address).where(Address.owner == owner)
    session.execute(query if kind is None else query.where(Address.kind == kind))


def record_outcome(session: Session, route: Route, error: str | None, now: datetime) -> None:
    """Store a send's failure on its address (made a row if it was implicit),
    or clear an earlier failure after a success."""
    if error is None:
        if route.last_error:
            session.execute(update(Address).where(*_is(route)).values(last_error=None, updated_at=now))
        return
    if session.execute(update(Address).where(*_is(route)).values(last_error=error, updated_at=now)).rowcount:
        return
    session.execute(insert(Address).values(owner=route.owner, kind=route.kind, value=route.value,
                                           last_error=error, received_at=now, updated_at=now))


def _is(route: Route):
    return Address.owner == route.owner, Address.kind == route.kind, Address.value == route.value


def problems(session: Session, owners: Iterable[str]) -> dict[str, str]:
    """owner → the last error of one of its addresses, for those that have one."""
    return {r.owner: r.last_error for rows in addresses_of(session, owners).values()
            for r in rows if r.last_error}


def sync_kinds(session: Session, wanted: dict[str, dict[str, str | None]], now: datetime) -> set[str]:
    """Make each owner's addresses of the given kinds exactly `wanted`
    ({owner: {kind: value or None}}), leaving other kinds alone (a learned
    group chat id, a log file). Returns the owners whose addresses changed."""
    kinds = {kind for values in wanted.values() for kind in values}
    current: dict[tuple[str, str], set[str]] = {}
    for owner, rows in addresses_of(session, wanted).items():
        for r in rows:
            if r.kind in kinds:
                current.setdefault((owner, r.kind), set()).add(r.value)
    changed, inserts = set(), []
    for owner, values in wanted.items():
        for kind, value in values.items():
            want = {value} if value else set()
            have = current.get((owner, kind), set())
            if want == have:
                continue
            changed.add(owner)
            if have - want:
                session.execute(delete(Address).where(Address.owner == owner, Address.kind == kind,
                                                      Address.value.in_(have - want)))
            inserts += [{"owner": owner, "kind": kind, "value": v, "received_at": now, "updated_at": now}
                        for v in want - have]
    if inserts:
        session.execute(insert(Address), inserts)
    return changed


def learn_group_chat(session: Session, kind: str, chat_id: str, userid: str, now: datetime) -> tuple[str, str | None]:
    """A group chat the smart robot heard `userid` in becomes an address of
    the sender's branch, the first time. Returns (what happened, owner):
    "learned", "known" (already this branch's), "other" (another branch's
    group already: the owner named — the caller reports it, never guesses),
    "has-one" (the branch has a group of this kind already), or "skipped"
    (the sender is not a branch member)."""
    conn = session.connection()
    member = active_member_by_userid(conn, userid)
    org = organization(conn, member.org_id) if member is not None else None
    if org is None or org.type != BRANCH:
        return "skipped", None
    owner = org_owner(org.code)
    holders = set(session.scalars(select(Address.owner).where(Address.kind == kind, Address.value == chat_id)))
    if owner in holders:
        return "known", owner
    if holders:
        return "other", sorted(holders)[0]
    if session.scalar(select(Address.id).where(Address.owner == owner, Address.kind == kind)) is not None:
        return "has-one", owner
    add_address(session, owner, kind, chat_id, now)
    return "learned", owner
