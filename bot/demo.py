"""The demo: a SQLite database under data/, the example county and plans,
and the server on loopback. Nothing here talks to the real WeCom."""
from __future__ import annotations

from pathlib import Path

from bot.config import load_config
from bot.runtime import Runtime
from storage.db import transaction, upgrade
from storage.plan_import import import_plan
from storage.roster_import import import_roster

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEMO_DB = "sqlite:///data/demo.db"


def demo_runtime(port: int) -> Runtime:
    config = load_config(use_file=False, overrides={
        "database.url": DEMO_DB, "server.port": port, "server.host": "127.0.0.1"})
    return Runtime.from_config(config)


def run_demo(port: int, serve_too: bool = True) -> None:
    runtime = demo_runtime(port)
    upgrade(runtime.engine)
    with transaction(runtime.sessions) as session:
        now = runtime.clock.now()
        roster = import_roster(session, EXAMPLES / "county" / "roster.xlsx", now)
        plans = [import_plan(session, EXAMPLES / f"plan-{y}.yaml", now) for y in (2026, 2027)]
    print(f"示例名册：组织 {roster['orgs']}；党员 {roster['members']}")
    print(f"示例计划：{'；'.join(str(p) for p in plans)}")
    if serve_too:
        from bot.server import serve
        print(f"服务已启动：http://127.0.0.1:{port}/healthz  （Ctrl-C 退出）")
        serve(runtime, "127.0.0.1", port, 2)
