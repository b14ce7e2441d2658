"""INSERT that skips rows whose unique key already exists, on every dialect
we support: the primitive behind "exactly once" (outbox keys, job runs,
leases)."""
from __future__ import annotations

from sqlalchemy.orm import Session


def insert_ignore(session: Session, model, rows: list[dict]) -> int:
    """INSERT rows, skipping those whose unique key exists (any dialect)."""
    if not rows:
        return 0
    dialect, table = session.get_bind().dialect.name, model.__table__
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
        stmt = insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
        stmt = insert(table).on_conflict_do_nothing()
    else:  # MySQL / MariaDB
        from sqlalchemy import insert
        stmt = insert(table).prefix_with("IGNORE")
    return session.execute(stmt, rows).rowcount or 0
