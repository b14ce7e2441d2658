"""Backup and restore: every table as JSON lines in one zip, with a manifest
carrying the schema revision (Alembic) and each table's row count —
portable between SQLite, PostgreSQL and MySQL/MariaDB, so it is also the
way to move a county from SQLite to a database server.

- `dump` reads one consistent snapshot (a single read transaction:
  REPEATABLE READ on PostgreSQL and MySQL, a read transaction on SQLite's
  WAL) of every table the database has, whatever this code's models say.
  Leases and access tokens are left out: they are running state, and a
  token is a credential.
- `restore` loads a file into an empty or freshly initialised database (or
  any, when forced) at the file's own schema revision, then brings it up to
  this code's newest one; a file from a newer schema is refused. Rows keep
  their ids; rows pointing at rows of their own table (an organisation's
  parent, a corrected report) are linked in a second pass, so no foreign
  key is ever deferred or switched off; PostgreSQL's sequences are moved
  past the largest id.

Layout of the zip: `manifest.json`; `tables/<name>.jsonl`, one JSON array
per row in the manifest's column order (dates and times as ISO text)."""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Callable, Iterator

from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, Table, and_, bindparam, func, inspect, select, text, update
from sqlalchemy.engine import Connection, Engine

from storage.db import MIGRATIONS, upgrade

FORMAT, FORMAT_VERSION = "zhibu-backup", 1
SKIPPED = ("alembic_version", "leases", "access_tokens")  # schema marker; running state and a credential
BATCH = 2000
Progress = Callable[[str, int], None]  # (table, rows just done)


class BackupError(Exception):
    """A backup that cannot be restored here, or a database it must not
    overwrite; str() says why in a line (Chinese, then English)."""


@dataclass
class Manifest:
    schema: str
    tables: dict[str, dict]          # name -> {"columns": [...], "rows": n}
    source: str                      # the dialect it came from
    created_at: str
    extra: dict

    def as_json(self) -> str:
        return json.dumps({"format": FORMAT, "version": FORMAT_VERSION, "schema": self.schema,
                           "source": self.source, "created_at": self.created_at,
                           "tables": self.tables, **self.extra}, ensure_ascii=False, indent=1)

    @classmethod
    def read(cls, doc: dict) -> "Manifest":
        if doc.get("format") != FORMAT:
            raise BackupError("不是支部通的备份文件 not a 支部通 backup")
        if doc.get("version", 0) > FORMAT_VERSION:
            raise BackupError(f"备份格式版本 {doc.get('version')} 比本程序新 the backup format is newer "
                              "than this program: upgrade it first")
        known = ("format", "version", "schema", "source", "created_at", "tables")
        return cls(doc["schema"], doc["tables"], doc.get("source", "?"), doc.get("created_at", ""),
                   {k: v for k, v in doc.items() if k not in known})

    @property
    def total_rows(self) -> int:
        return sum(t["rows"] for t in self.tables.values())


# ---- schema revisions ------------------------------------------------------
def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def newest_revision() -> str:
    return _scripts().get_current_head()


def is_known_revision(revision: str | None) -> bool:
    if revision is None:
        return True
    try:
        return _scripts().get_revision(revision) is not None
    except Exception:  # alembic's ResolutionError / CommandError: not one of ours
        return False


# ---- backup ----------------------------------------------------------------
def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    raise TypeError(f"cannot back up a {type(value).__name__}")


def _snapshot(engine: Engine) -> Connection:
    """A connection whose reads all see one moment of the database."""
    if engine.dialect.name == "sqlite":
        conn = engine.connect()
        conn.exec_driver_sql("BEGIN")  # pysqlite opens no transaction for reads by itself
        return conn
    return engine.connect().execution_options(isolation_level="REPEATABLE READ")


def _tables(conn: Connection) -> list[Table]:
    """The database's own tables (reflected), parents before children."""
    metadata = MetaData()
    metadata.reflect(conn)
    return [t for t in metadata.sorted_tables if t.name not in SKIPPED]


def _ordered(table: Table):
    key = list(table.primary_key.columns) or list(table.columns)
    return select(table).order_by(*key)


def dump(engine: Engine, archive: zipfile.ZipFile, created_at: datetime,
         progress: Progress | None = None, extra: dict | None = None) -> Manifest:
    """Write every table of one snapshot into `archive`; its manifest (also
    written). `progress(table, n)` is called as rows are written; call
    `count_rows` first for the total."""
    with _snapshot(engine) as conn:
        try:
            schema = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:
            raise BackupError("数据库尚未初始化，无可备份 the database is not initialised") from None
        tables: dict[str, dict] = {}
        for table in _tables(conn):
            columns = [c.name for c in table.columns]
            rows = 0
            entry = zipfile.ZipInfo(f"tables/{table.name}.jsonl", created_at.timetuple()[:6])
            entry.compress_type = archive.compression
            with archive.open(entry, "w", force_zip64=True) as out:
                result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(_ordered(table))
                for chunk in result.partitions(BATCH):
                    out.write("".join(json.dumps(list(row), ensure_ascii=False, default=_json_value) + "\n"
                                      for row in chunk).encode("utf-8"))
                    rows += len(chunk)
                    if progress:
                        progress(table.name, len(chunk))
            tables[table.name] = {"columns": columns, "rows": rows}
        conn.rollback()
    manifest = Manifest(schema, tables, engine.dialect.name, created_at.isoformat(), extra or {})
    entry = zipfile.ZipInfo("manifest.json", created_at.timetuple()[:6])
    archive.writestr(entry, manifest.as_json(), compress_type=archive.compression)
    return manifest


def count_rows(engine: Engine) -> int:
    """Rows a backup would hold (for a progress bar's total)."""
    with engine.connect() as conn:
        return sum(conn.execute(select(func.count()).select_from(t)).scalar() for t in _tables(conn))


def evidence_files(engine: Engine) -> list[tuple[int, str]]:
    """(evidence id, path) of every downloaded evidence file."""
    with engine.connect() as conn:
        evidence = Table("evidence", MetaData(), autoload_with=conn)
        return [(i, p) for i, p in conn.execute(select(evidence.c.id, evidence.c.path)
                                                  .where(evidence.c.path.is_not(None)).order_by(evidence.c.id))]


def move_evidence(engine: Engine, paths: dict[int, str]) -> None:
    """Point evidence rows at where their files are now (after a restore)."""
    if not paths:
        return
    with engine.begin() as conn:
        evidence = Table("evidence", MetaData(), autoload_with=conn)
        conn.execute(update(evidence).where(evidence.c.id == bindparam("eid")).values(path=bindparam("new_path")),
                     [{"eid": i, "new_path": p} for i, p in paths.items()])


# ---- restore ---------------------------------------------------------------
def read_manifest(archive: zipfile.ZipFile) -> Manifest:
    try:
        return Manifest.read(json.loads(archive.read("manifest.json")))
    except KeyError:
        raise BackupError("备份文件缺少 manifest.json not a 支部通 backup") from None


def rows_in(engine: Engine) -> int:
    """Rows in the database's tables (but running state); 0 for a new or
    freshly initialised database."""
    with engine.connect() as conn:
        return sum(conn.execute(select(func.count()).select_from(t)).scalar() for t in _tables(conn))


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if "alembic_version" not in inspect(conn).get_table_names():
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def check_restorable(engine: Engine, manifest: Manifest, force: bool) -> None:
    """Refuse a file of a newer schema, a database of a newer schema, and a
    database holding rows (unless forced)."""
    if not is_known_revision(manifest.schema):
        raise BackupError(f"备份来自更新的数据库版本（{manifest.schema}），请先升级本程序 "
                          f"the backup is of a newer schema ({manifest.schema}): upgrade this program first")
    target = current_revision(engine)
    if not is_known_revision(target):
        raise BackupError(f"目标数据库的版本（{target}）比本程序新 the target database's schema ({target}) "
                          "is newer than this program")
    held = rows_in(engine)
    if held and not force:
        raise BackupError(f"目标数据库不是空的（{held} 行），加 --force 才会覆盖 the target database holds "
                          f"{held} rows: add --force to replace them")


def _drop_ours(engine: Engine, names: set[str]) -> None:
    with engine.begin() as conn:
        metadata = MetaData()
        present = set(inspect(conn).get_table_names())
        metadata.reflect(conn, only=[n for n in names | {"alembic_version"} if n in present])
        metadata.drop_all(conn)


def restore(engine: Engine, archive: zipfile.ZipFile, force: bool = False,
            progress: Progress | None = None) -> Manifest:
    """Load a backup (see the module's docstring); its manifest."""
    from storage.models import Base
    manifest = read_manifest(archive)
    check_restorable(engine, manifest, force)
    if current_revision(engine) != manifest.schema:
        # Nothing to keep (empty, or forced): the tables as the file's schema had them.
        _drop_ours(engine, set(manifest.tables) | set(Base.metadata.tables) | set(SKIPPED))
        upgrade(engine, manifest.schema)
    with engine.begin() as conn:
        tables = {t.name: t for t in _tables(conn)}
        missing = sorted(set(manifest.tables) - set(tables))
        if missing:
            raise BackupError(f"备份中的表 {missing[0]} 在数据库中不存在 table {missing[0]} is not in the database")
        order = [t for t in tables.values() if t.name in manifest.tables]
        for table in reversed(order):  # forced over old rows: out they go, in this transaction
            _unlink_self(conn, table)
            conn.execute(table.delete())
        for table in order:
            _load(conn, table, archive, manifest.tables[table.name], progress)
        if conn.dialect.name == "postgresql":
            _move_sequences(conn, order)
    upgrade(engine)  # then on to this code's newest schema
    return manifest


def _self_keys(table: Table) -> list[str]:
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table.name == table.name]


def _unlink_self(conn: Connection, table: Table) -> None:
    for name in _self_keys(table):
        conn.execute(update(table).values({name: None}))


def _converter(column) -> Callable[[Any], Any]:
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return lambda v: v
    if kind is datetime:
        return lambda v: datetime.fromisoformat(v) if isinstance(v, str) else v
    if kind is date:
        return lambda v: date.fromisoformat(v[:10]) if isinstance(v, str) else v
    if kind is time:
        return lambda v: time.fromisoformat(v) if isinstance(v, str) else v
    if kind is bool:
        return bool
    if kind is int:
        return int
    if kind is float:
        return float
    if kind is Decimal:
        return lambda v: Decimal(str(v))
    return lambda v: v


def _lines(archive: zipfile.ZipFile, name: str) -> Iterator[list]:
    with archive.open(f"tables/{name}.jsonl") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def _load(conn: Connection, table: Table, archive: zipfile.ZipFile, meta: dict,
          progress: Progress | None) -> None:
    columns = meta["columns"]
    unknown = [c for c in columns if c not in table.columns]
    if unknown:
        raise BackupError(f"表 {table.name} 没有列 {unknown[0]} table {table.name} has no column {unknown[0]}")
    convert = [_converter(table.columns[c]) for c in columns]
    linked = [c for c in _self_keys(table) if c in columns]
    key = [c.name for c in table.primary_key.columns]
    links: list[dict] = []
    batch: list[dict] = []
    loaded = 0

    def flush() -> None:
        nonlocal loaded
        if batch:
            conn.execute(table.insert(), batch)
            loaded += len(batch)
            if progress:
                progress(table.name, len(batch))
            batch.clear()

    for values in _lines(archive, table.name):
        row = {c: (None if v is None else f(v)) for c, f, v in zip(columns, convert, values)}
        if linked and any(row[c] is not None for c in linked):
            links.append({**{f"k_{k}": row[k] for k in key}, **{f"v_{c}": row[c] for c in linked}})
            row.update({c: None for c in linked})
        batch.append(row)
        if len(batch) >= BATCH:
            flush()
    flush()
    if loaded != meta["rows"]:
        raise BackupError(f"表 {table.name} 应有 {meta['rows']} 行，读到 {loaded} 行 "
                          f"table {table.name}: {loaded} rows read, {meta['rows']} expected (damaged file?)")
    if links:  # the second pass: rows of this table pointing at others of it
        conn.execute(update(table).where(and_(*(table.c[k] == bindparam(f"k_{k}") for k in key)))
                     .values({c: bindparam(f"v_{c}") for c in linked}), links)


def _move_sequences(conn: Connection, tables: list[Table]) -> None:
    """After rows with explicit ids, PostgreSQL's sequences still start at 1:
    move each past the largest id, so the next row does not collide."""
    for table in tables:
        for column in table.primary_key.columns:
            if column.type.python_type is int:
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence(:t, :c), COALESCE(MAX(\"{column.name}\"), 0) + 1, false) "
                    f"FROM \"{table.name}\""), {"t": f'"{table.name}"', "c": column.name})
