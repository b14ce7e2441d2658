"""Shared fixtures: a real database (a temporary SQLite file; PostgreSQL for
the tests that ask for `any_db_url`), the sample county, a frozen clock."""
from __future__ import annotations

import os
import shutil
import sys
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from zoneinfo import ZoneInfo  # noqa: E402

from bot.clock import FrozenClock  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from storage.db import transaction, upgrade  # noqa: E402
from storage.importers.plan_import import import_plan  # noqa: E402
from storage.importers.roster_import import import_roster  # noqa: E402
from tests.db_servers import MariaDBServer, PostgresServer  # noqa: E402

EXAMPLES = ROOT / "examples"
ROSTER_XLSX = EXAMPLES / "county" / "roster.xlsx"
ROSTER_DIR = EXAMPLES / "county"
PLAN_2026 = EXAMPLES / "plan-2026.yaml"
PLAN_2027 = EXAMPLES / "plan-2027.yaml"
# A Monday in a month whose holiday data the calendar library has.
DEFAULT_NOW = datetime(2026, 11, 16, 10, 17)


def _running(server, required_by: str, what: str):
    """Start a throw-away server for the session, or skip (fail in CI)."""
    if not server.available:
        if os.environ.get(required_by):
            pytest.fail(f"{what} not installed, but {required_by} is set")
        pytest.skip(f"{what} not installed here")
    url = server.start()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def pg_base_url():
    yield from _running(PostgresServer(), "ZHIBU_REQUIRE_PG", "PostgreSQL")


@pytest.fixture(scope="session")
def mysql_base_url():
    yield from _running(MariaDBServer(), "ZHIBU_REQUIRE_MYSQL", "MariaDB")


def _fresh_database(base_url: str, create: str, **engine_options) -> str:
    name = f"t{uuid.uuid4().hex[:16]}"  # conftest may be imported twice: no counters
    engine = create_engine(base_url, **engine_options)
    with engine.begin() as conn:
        conn.execute(text(create.format(name=name)))
    engine.dispose()
    return base_url.rsplit("/", 1)[0] + f"/{name}"


def fresh_pg_database(base_url: str) -> str:
    return _fresh_database(base_url, 'CREATE DATABASE "{name}"', isolation_level="AUTOCOMMIT")


def fresh_mysql_database(base_url: str) -> str:
    return _fresh_database(base_url, "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")


@pytest.fixture(params=["postgresql", "mysql"])
def server_db_url(request):
    """A fresh database on a real server: for races between processes/threads."""
    if request.param == "mysql":
        return fresh_mysql_database(request.getfixturevalue("mysql_base_url"))
    return fresh_pg_database(request.getfixturevalue("pg_base_url"))


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def any_db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/zhibu.db"
    if request.param == "mysql":
        return fresh_mysql_database(request.getfixturevalue("mysql_base_url"))
    return fresh_pg_database(request.getfixturevalue("pg_base_url"))


def make_runtime(db_url: str, tmp_path: Path, **overrides) -> Runtime:
    config = load_config(environ={}, use_file=False, overrides={
        "database.url": db_url, "server.media_dir": str(tmp_path / "media"),
        # a loaded test machine must not turn a passive reply into a late one; the
        # slow-answer tests set their own short wait
        "server.answer_within": 4.5, **overrides})
    runtime = Runtime.from_config(config, FrozenClock(DEFAULT_NOW, ZoneInfo(config["scheduler.timezone"])))
    upgrade(runtime.engine)
    return runtime


@pytest.fixture
def runtime(tmp_path):
    rt = make_runtime(f"sqlite:///{tmp_path}/zhibu.db", tmp_path)
    yield rt
    rt.engine.dispose()


def load_county(rt: Runtime) -> Runtime:
    with transaction(rt.sessions) as session:
        import_roster(session, ROSTER_XLSX, rt.clock.now())
        import_plan(session, PLAN_2026, rt.clock.now())
        import_plan(session, PLAN_2027, rt.clock.now())
    return rt


@pytest.fixture
def county(runtime):
    return load_county(runtime)


@pytest.fixture
def roster_copy(tmp_path):
    """An editable copy of the sample CSV roster."""
    target = tmp_path / "roster"
    shutil.copytree(ROSTER_DIR, target)
    return target


@pytest.fixture
def standin():
    from bot.wecom.standin import WeComStandin
    server = WeComStandin().start()
    yield server
    server.stop()


def wire(rt: Runtime, standin) -> Runtime:
    """Point a runtime at the WeCom stand-in, with the test app's secrets."""
    from tests.wecom_peer import WECOM_SETTINGS
    rt.config = load_config(environ={}, use_file=False, overrides={
        **rt.config.values, **WECOM_SETTINGS, "wecom.secret": "app-secret",
        "wecom.api_base": standin.api_base})
    return rt


@pytest.fixture
def wired(county, standin):
    standin.state.clock = lambda: county.clock.now().timestamp()
    return wire(county, standin)


def no_sleep(seconds: float) -> None:
    """Backoff in tests: the stand-in's faults are counted, not timed."""


@pytest.fixture
def worker(wired):
    from bot.outbound.worker import DeliveryWorker
    from bot.wecom.client import WeComClient
    w = DeliveryWorker(wired, WeComClient(wired, sleep=no_sleep), threads=4)
    yield w
    w.pool.shutdown()


@pytest.fixture
def app(wired):
    from bot.web import create_app
    return create_app(runtime=wired)


@pytest.fixture
def wecom(app, county):
    from tests.wecom_peer import WeComPeer
    return WeComPeer(app.test_client(), county.clock)


def set_group_address(rt: Runtime, code: str, value: str | None, kind: str = "wecom_robot") -> None:
    """Replace a branch group's addresses with one (or none, for value None)."""
    from storage.addresses import add_address, org_owner, remove_addresses
    with transaction(rt.sessions) as s:
        remove_addresses(s, org_owner(code))
        if value:
            add_address(s, org_owner(code), kind, value, rt.clock.now())
