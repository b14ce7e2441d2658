"""Engine and sessions. SQLite gets WAL and a busy timeout so several
processes (web workers, the scheduler) can share one file safely."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            create_private(Path(parsed.database))
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "mysql":
        # utf8mb4 for every name (㛃, 𠮷); READ COMMITTED as on PostgreSQL, so
        # a compare-and-set sees the latest row and InnoDB takes no gap locks.
        url = parsed.update_query_dict({"charset": "utf8mb4"}).render_as_string(False)
        return create_engine(url, pool_pre_ping=True, isolation_level="READ COMMITTED")
    return create_engine(url, pool_pre_ping=True)


def create_private(path: Path) -> None:
    """Create the SQLite file, if it is new, readable by its owner only (0600),
    in a folder made 0700: it holds members' names, phones and records, and
    the WeCom access token. SQLite gives the -wal and -shm files it makes
    beside it the database file's own mode, so they are 0600 too. An existing
    file's mode is the operator's choice and is left alone."""
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # an empty file is an empty database
    except FileExistsError:
        pass


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # 16 MB of page cache per connection instead of SQLite's 2 MB: a county's
    # month of assignments (the task matrix, ~50,000 rows read by index) then
    # stays in memory instead of being re-read page by page (~25 % of that query).
    cur.execute("PRAGMA cache_size=-16384")
    cur.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back on error."""
    with factory() as session, session.begin():
        yield session


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to the newest migration (Alembic), or to `revision`."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def schema_version(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:  # no table yet: an empty database
            return None
