"""Real processes: kill -9 in the middle of a push, then restart; and two
pushes in two processes at once. Every branch gets its sheet; a duplicate is
possible only for messages on the wire at the kill (one per sending thread)."""
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter

from sqlalchemy import func, select

from storage.models import Delivery
from tests.conftest import ROOT, load_county, make_runtime
from tests.wecom_peer import WECOM_SETTINGS

BRANCHES = 36
SENDING_THREADS = 16  # DeliveryWorker's default


def env_for(db_url, standin):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIBU_")}
    env.update({"ZHIBU_DATABASE__URL": db_url, "ZHIBU_WECOM__API_BASE": standin.api_base,
                "ZHIBU_WECOM__CORP_ID": WECOM_SETTINGS["wecom.corp_id"], "ZHIBU_WECOM__SECRET": "s",
                "ZHIBU_WECOM__AGENT_ID": "1000002", "ZHIBU_LOG__LEVEL": "WARNING",
                "ZHIBU_CONFIG": os.devnull})
    return env


def bot(*args, env):
    return subprocess.Popen([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def sheets(standin):
    return Counter(r["to"] for r in standin.received() if "2026年11月重点工作提醒单" in str(r["body"]))


def test_kill_9_mid_push_then_restart(tmp_path, standin):
    db = f"sqlite:///{tmp_path}/crash.db"
    load_county(make_runtime(db, tmp_path)).engine.dispose()
    env = env_for(db, standin)
    standin.state.delay = 0.25  # slow enough to be killed half-way
    push = bot("push-monthly", "--month", "2026-11", env=env)
    deadline = time.monotonic() + 60
    while len(standin.received()) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    push.send_signal(signal.SIGKILL)
    push.wait()
    before = sum(sheets(standin).values())
    assert 0 < before < BRANCHES, "the kill should land mid-push"
    standin.state.delay = 0
    restart = bot("deliver", env=env)
    out, err = restart.communicate(timeout=120)
    assert restart.returncode == 0, err
    received = sheets(standin)
    assert len(received) == BRANCHES  # every branch got its sheet
    assert sum(received.values()) - BRANCHES <= SENDING_THREADS  # only in-flight ones twice
    resent = Counter(r["to"] for r in standin.received()
                     if str(r["body"][r["body"]["msgtype"]]["content"]).startswith("（补发）"))
    assert all(resent[to] == n - 1 for to, n in received.items() if n > 1)  # a second copy says 补发
    assert "marked （补发）" in err  # and the count is logged
    orphans = int(re.search(r"(\d+) deliveries were left sending", err).group(1))
    assert orphans > 0 and len(resent) == orphans  # every row the dead process held went again marked, no other
    rt = make_runtime(db, tmp_path)
    with rt.sessions() as s:
        assert dict(s.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all()) \
            == {"sent": BRANCHES}
    rt.engine.dispose()


def push_twice_at_once(db, tmp_path, standin) -> Counter:
    """Two `push-monthly` processes started together on one database."""
    load_county(make_runtime(db, tmp_path)).engine.dispose()
    env = env_for(db, standin)
    standin.state.delay = 0.02
    pushes = [bot("push-monthly", "--month", "2026-11", env=env) for _ in range(2)]
    for p in pushes:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    return sheets(standin)


def test_two_processes_pushing_at_once_send_each_sheet_once(tmp_path, standin):
    received = push_twice_at_once(f"sqlite:///{tmp_path}/two.db", tmp_path, standin)
    assert len(received) == BRANCHES and set(received.values()) == {1}


def test_two_processes_on_a_database_server(server_db_url, tmp_path, standin):
    received = push_twice_at_once(server_db_url, tmp_path, standin)
    assert len(received) == BRANCHES and set(received.values()) == {1}
