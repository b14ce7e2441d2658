"""The demo: a SQLite database under data/, the example county and plans,
a loopback WeCom stand-in, the server and the scheduler — nothing talks to
the real WeCom. Try it with `python -m bot say u700001 任务`."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from bot.config import load_config
from bot.runtime import Runtime
from bot.web.workbench.passwords import hash_password
from storage.accounts import holder_by_userid, open_account
from storage.db import transaction, upgrade
from storage.importers.plan_import import import_plan
from storage.importers.roster_import import import_roster

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
# Made-up credentials for the loopback set-up only.
DEMO_CONFIG = ROOT / "data" / "demo-config.yaml"
DEMO_USER, DEMO_PASSWORD = "s7001", "demo-pass-2026"  # the demo's workbench sign-in (loopback only)


def demo_config(port: int, standin_port: int) -> dict:
    return {
        "database": {"url": "sqlite:///data/demo.db"},
        "wecom": {"corp_id": "wwdemo0000000001", "agent_id": 1000002, "secret": "demo-secret",
                  "token": "demoToken", "encoding_aes_key": "DemoAesKey0123456789DemoAesKey0123456789abc",
                  "api_base": f"http://127.0.0.1:{standin_port}/cgi-bin/"},
        "aibot": {"token": "demoAibot", "encoding_aes_key": "AibotAesKey0123456789AibotAesKey01234567890"},
        "server": {"host": "127.0.0.1", "port": port, "media_dir": "data/demo-media"},
    }


def run_demo(port: int, serve_too: bool = True, standin_port: int = 8091) -> None:
    os.chdir(ROOT)
    DEMO_CONFIG.parent.mkdir(exist_ok=True)
    DEMO_CONFIG.write_text("# Written by `python -m bot demo`: loopback only, made-up secrets.\n"
                           + yaml.safe_dump(demo_config(port, standin_port), allow_unicode=True), "utf-8")
    runtime = Runtime.from_config(load_config(str(DEMO_CONFIG), environ={}))
    upgrade(runtime.engine)
    with transaction(runtime.sessions) as session:
        now = runtime.clock.now()
        roster = import_roster(session, EXAMPLES / "county" / "roster.xlsx", now)
        plans = [import_plan(session, EXAMPLES / f"plan-{y}.yaml", now) for y in (2026, 2027)]
        member, _unit, _account = holder_by_userid(session, DEMO_USER)
        open_account(session, member, hash_password(DEMO_PASSWORD), now)
    print(f"示例名册：组织 {roster['orgs']}；党员 {roster['members']}")
    print(f"示例计划：{'；'.join(str(p) for p in plans)}")
    if not serve_too:
        return
    standin = subprocess.Popen([sys.executable, "-m", "bot.wecom.standin", "--port", str(standin_port)])
    time.sleep(0.5)
    print(f"企业微信模拟服务：http://127.0.0.1:{standin_port}/_standin/received（查看已“发出”的消息）")
    print(f"服务：http://127.0.0.1:{port}/healthz   工作台：http://127.0.0.1:{port}/dashboard/")
    print(f"工作台演示账号：{DEMO_USER}（组织部 余刚永） 密码：{DEMO_PASSWORD}")
    print("试一试（另开一个终端）：\n"
          "  .venv/bin/python -m bot say u700001 任务      # 书记吕丽刚查看任务\n"
          "  .venv/bin/python -m bot say u700001 完成 1 已排查\n"
          "  .venv/bin/python -m bot say u700029 签到      # 流动党员签到\n"
          "  .venv/bin/python -m bot say s7001 进度        # 组织部查看进度\n"
          "  （或 ./run say u700001 帮助）")
    from bot.web.server import serve
    try:
        serve(runtime, "127.0.0.1", port, 2)
    finally:
        standin.terminate()
