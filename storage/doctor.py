"""What `python -m bot doctor` reads: addresses by kind, the ones to probe,
branches that no group address reaches. Data only; the checks and their
words are in bot/cli/ops.py."""
from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from storage.addresses import ORG, org_owner
from storage.models import BRANCH, Address, Organization


def address_kinds(session: Session) -> dict[str, tuple[int, int]]:
    """{kind: (addresses, addresses whose last send failed)}."""
    failing = func.sum(case((Address.last_error.is_not(None), 1), else_=0))
    return {kind: (int(n), int(bad or 0)) for kind, n, bad in
            session.execute(select(Address.kind, func.count(), failing).group_by(Address.kind))}


def addresses_to_check(session: Session, kind: str, limit: int) -> list[tuple[str, str]]:
    """(owner, value) of up to `limit` distinct addresses of a kind, those
    that failed last time first."""
    query = (select(Address.owner, Address.value).where(Address.kind == kind)
             .order_by(Address.last_error.is_(None), Address.id).limit(limit))
    return [(owner, value) for owner, value in session.execute(query)]


def branches_without_group(session: Session) -> list[str]:
    """Codes of active branches with no address of their own (their sheets fail)."""
    codes = session.scalars(select(Organization.code).where(Organization.type == BRANCH,
                                                            Organization.active).order_by(Organization.code))
    reached = set(session.scalars(select(Address.owner).where(Address.owner.like(f"{ORG}:%")).distinct()))
    return [code for code in codes if org_owner(code) not in reached]
