"""Issue 17, row 2: slow clients cannot take the service offline. A real
`python -m bot serve` (2 workers) under 50 slowloris connections — half
trickling header lines, half a declared body a byte at a time — held for
20 s, while /healthz and a real encrypted callback each answer in < 1 s."""
from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import pytest

from bot.web.worker import MAX_HEAD, PASS, READY, WAIT, Pending, judge_head
from tests.conftest import ROOT, load_county, make_runtime
from tests.db_servers import free_port
from tests.wecom_peer import WECOM_SETTINGS, WeComPeer, text_xml

SLOW_CONNECTIONS, HELD_FOR, DEADLINE = 50, 20.0, 1.0


class Slowloris(threading.Thread):
    """Connections that never finish their request: a line (or a byte) a
    second each, and reopened when the server closes one, as the tool does."""

    def __init__(self, port: int, count: int) -> None:
        super().__init__(daemon=True)
        self.port, self.count, self.opened, self.reopened = port, count, 0, 0
        self.stop = threading.Event()

    def _open(self, i: int):
        sock = __import__("socket").create_connection(("127.0.0.1", self.port), timeout=2)
        if i % 2:  # headers that never end
            sock.sendall(b"POST /wecom/callback HTTP/1.1\r\nHost: zhibu\r\nContent-Type: text/xml\r\n")
        else:  # a whole head, then a body that never arrives
            sock.sendall(b"POST /wecom/callback HTTP/1.1\r\nHost: zhibu\r\nContent-Length: 60000\r\n\r\n<xml>")
        self.opened += 1
        return sock

    def run(self) -> None:
        socks = [self._open(i) for i in range(self.count)]
        while not self.stop.wait(1.0):
            for i, sock in enumerate(socks):
                try:
                    sock.sendall(b"X-Slow: 1\r\n" if i % 2 else b"a")
                except OSError:  # closed by the server: open another
                    sock.close()
                    socks[i] = self._open(i)
                    self.reopened += 1
        for sock in socks:
            sock.close()


def timed(port: int, method: str, path: str, body: str | None = None) -> tuple[float, int, bytes]:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "text/xml"} if body else {})
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    return time.monotonic() - started, response.status, data


@pytest.fixture
def served(tmp_path):
    url = f"sqlite:///{tmp_path}/served.db"
    load_county(make_runtime(url, tmp_path)).engine.dispose()
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ZHIBU_")},
           "ZHIBU_CONFIG": os.devnull, "ZHIBU_DATABASE__URL": url, "ZHIBU_SCHEDULER__ENABLED": "false",
           **{"ZHIBU_" + key.upper().replace(".", "__"): str(value) for key, value in WECOM_SETTINGS.items()}}
    server = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port), "--workers", "2"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(150):
            try:
                timed(port, "GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_slowloris_does_not_delay_healthz_or_a_callback(served):
    port = served
    peer = WeComPeer(None, SimpleNamespace(epoch=lambda: int(time.time())))
    attack = Slowloris(port, SLOW_CONNECTIONS)
    attack.start()
    while attack.opened < SLOW_CONNECTIONS:
        time.sleep(0.05)
    probes, end = [], time.monotonic() + HELD_FOR
    try:
        while time.monotonic() < end:
            seconds, status, _ = timed(port, "GET", "/healthz")
            probes.append(("healthz", seconds, status))
            body, query = peer.sealed(text_xml("u700001", "任务"))
            path = "/wecom/callback?" + "&".join(f"{k}={v}" for k, v in query.items())
            seconds, status, data = timed(port, "POST", path, body)
            probes.append(("callback", seconds, status))
            assert peer.open_reply(SimpleNamespace(status_code=status, data=data))["Content"]
            time.sleep(0.5)
    finally:
        attack.stop.set()
        attack.join(timeout=10)
    slow = [p for p in probes if p[1] >= DEADLINE or p[2] != 200]
    assert len(probes) >= 20 and slow == [], slow
    # every slow connection was cut at its 10 s read deadline at least once, and came back
    assert attack.reopened >= SLOW_CONNECTIONS


@pytest.mark.parametrize("head, verdict", [
    (b"get / http/1.1\r\nhost: x\r\n", (READY, 0)),
    (b"post / http/1.1\r\ncontent-length: 12\r\n", (READY, 12)),
    (b"post / http/1.1\r\ncontent-length: 70000\r\n", (PASS, 0)),  # the app answers 413, unread
    (b"post / http/1.1\r\ncontent-length: 1\r\ncontent-length: 2\r\n", (PASS, 0)),  # gunicorn: 400
    (b"post / http/1.1\r\ncontent-length: x\r\n", (PASS, 0)),
    (b"post / http/1.1\r\ntransfer-encoding: chunked\r\n", (411, 0)),
])
def test_request_heads_are_judged_before_a_thread_sees_them(head, verdict):
    assert judge_head(head, 64 * 1024) == verdict


def test_a_request_is_ready_only_when_whole_and_a_huge_head_is_refused():
    pending = Pending()
    assert pending.add(b"POST / HTTP/1.1\r\nContent-Length: 5\r", 100) == WAIT
    assert pending.add(b"\n\r\nabc", 100) == WAIT  # the head's end split across reads
    assert pending.add(b"de", 100) == READY
    assert Pending().add(b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * (MAX_HEAD // 6), 100) == 431
    pipelined = Pending()  # answered, then closed: the next request is never read by a thread
    assert pipelined.add(b"GET / HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n", 100) == READY
    assert pipelined.pipelined and not pending.pipelined
