"""`serve` is gunicorn on the configured port, and /healthz tells the
database's state."""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

from bot.web import create_app
from tests.conftest import ROOT, make_runtime
from tests.db_servers import free_port


def newest_migration() -> str:
    from alembic.script import ScriptDirectory
    from storage.db import MIGRATIONS
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def test_serve_runs_gunicorn_and_healthz_reports_the_schema(tmp_path):
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ZHIBU_")},
           "ZHIBU_CONFIG": os.devnull, "ZHIBU_DATABASE__URL": f"sqlite:///{tmp_path}/s.db",
           "ZHIBU_SCHEDULER__ENABLED": "false"}
    server = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port), "--workers", "2"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                status, body = get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                time.sleep(0.1)
        assert status == 200 and body["ok"] and body["schema"] == newest_migration()
        # gunicorn's master with its two workers (the second may still be forking
        # when the first has answered: wait for it, on a loaded machine too)
        for _ in range(100):
            workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
            if len(workers) >= 2:
                break
            time.sleep(0.1)
        assert len(workers) == 2
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_healthz_says_when_the_database_is_not_initialised(tmp_path):
    from sqlalchemy import create_engine

    from bot.runtime import Runtime
    rt = make_runtime(f"sqlite:///{tmp_path}/a.db", tmp_path)
    empty = Runtime(rt.config, create_engine(f"sqlite:///{tmp_path}/empty.db"), rt.sessions, rt.clock)
    response = create_app(runtime=empty).test_client().get("/healthz")
    assert response.status_code == 503 and "python -m bot init" in response.get_json()["database"]
