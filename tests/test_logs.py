"""Logs: one line per event, text or JSON lines (`--log-json`, config
`log.json`); a request id per HTTP request, in every line emitted while it
is served and in its answer's X-Request-Id."""
import io
import json
import logging
import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest
from click.testing import CliRunner

from bot.logs import JsonFormatter, TextFormatter, request_id, setup_logging
from tests.conftest import ROOT
from tests.db_servers import free_port
from tests.wecom_peer import AES_KEY, CORP_ID, TOKEN


@pytest.fixture
def captured():
    """Our handler on the root logger, writing to a buffer; taken away after."""
    root = logging.getLogger()
    level = root.level
    made = []

    def capture(json_lines: bool = False) -> io.StringIO:
        stream = io.StringIO()
        made.append(setup_logging("INFO", json_lines, stream))
        return stream

    yield capture
    for handler in made:
        root.removeHandler(handler)
    root.setLevel(level)
    request_id.set(None)


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in lines(stream)]


def test_a_text_line_is_one_line_even_for_a_traceback_or_a_newline_in_a_message(captured):
    out = captured()
    log = logging.getLogger("bot.test")
    log.warning("from a member: %s", "签到\nFAKE 2027-01-01 ERROR forged line")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("handler failed")
    got = lines(out)
    assert len(got) == 2
    assert "签到\\nFAKE" in got[0]
    assert got[1].endswith("ValueError: boom") and "\\nTraceback" in got[1]


def test_json_lines_carry_level_logger_message_pid_and_the_exception(captured):
    out = captured(json_lines=True)
    log = logging.getLogger("bot.test")
    log.info("第 %d 个支部", 3)
    try:
        1 / 0
    except ZeroDivisionError:
        log.exception("crashed")
    first, second = records(out)
    assert first["level"] == "INFO" and first["logger"] == "bot.test" and first["message"] == "第 3 个支部"
    assert first["pid"] == os.getpid() and "request_id" not in first
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", first["time"])
    assert second["exception"].startswith("Traceback") and "ZeroDivisionError" in second["exception"]


def test_the_request_id_is_on_records_of_any_logger_while_it_is_set(captured):
    out = captured(json_lines=True)
    request_id.set("abcdef0123456789")
    logging.getLogger("sqlalchemy.engine.test").warning("inside")
    request_id.set(None)
    logging.getLogger("bot.test").warning("outside")
    inside, outside = records(out)
    assert inside["request_id"] == "abcdef0123456789" and "request_id" not in outside
    text = captured()
    request_id.set("abcdef0123456789")
    logging.getLogger("bot.test").warning("tagged")
    assert "bot.test [abcdef0123456789]: tagged" in lines(text)[0]


def test_every_line_while_serving_a_request_names_it_and_the_answer_says_which(app, captured):
    out = captured(json_lines=True)

    @app.get("/boom")
    def boom():
        logging.getLogger("bot.web.test").info("about to fail")
        raise RuntimeError("view crashed")

    client = app.test_client()
    # closed as a server closes them: the access line is written when the answer is done
    with client.post("/wecom/callback?msg_signature=x&timestamp=1&nonce=n", data=b"<xml/>") as refused:
        pass
    with client.get("/boom") as crashed:
        pass
    ids = [refused.headers["X-Request-Id"], crashed.headers["X-Request-Id"]]
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids) and ids[0] != ids[1]
    logging.getLogger("bot.test").info("after the requests")
    by_id: dict = {}
    for r in records(out):
        by_id.setdefault(r.get("request_id"), []).append(r)
    first = by_id[ids[0]]
    assert [r["logger"] for r in first] == ["bot.web.callback", "bot.web.access"]
    assert first[0]["level"] == "WARNING" and first[1]["message"].startswith("POST /wecom/callback 4")
    second = by_id[ids[1]]
    assert [r["message"] for r in second][0] == "about to fail"
    assert any("RuntimeError: view crashed" in r.get("exception", "") for r in second)
    assert second[-1]["message"].startswith("GET /boom 500")
    assert [r["message"] for r in by_id[None]] == ["after the requests"]


def test_the_proxy_request_id_is_kept_and_a_made_up_one_replaced(app):
    client = app.test_client()
    kept = client.get("/healthz", headers={"X-Request-Id": "0123456789abcdef0123456789abcdef"})
    assert kept.headers["X-Request-Id"] == "0123456789abcdef0123456789abcdef"
    for hostile in ("short", "x" * 65, "abc def ghi jkl", "abcdefgh\"}{injected", "汉字汉字汉字汉字"):
        answer = client.get("/healthz", headers={"X-Request-Id": hostile})
        assert re.fullmatch(r"[0-9a-f]{16}", answer.headers["X-Request-Id"])
        assert answer.headers.getlist("X-Request-Id") == [answer.headers["X-Request-Id"]]


@pytest.mark.parametrize("how", ["flag", "config", "neither"])
def test_log_json_from_the_flag_or_the_config(how, tmp_path, monkeypatch):
    monkeypatch.setenv("ZHIBU_CONFIG", os.devnull)
    monkeypatch.setenv("ZHIBU_DATABASE__URL", f"sqlite:///{tmp_path}/l.db")
    monkeypatch.delenv("ZHIBU_LOG__JSON", raising=False)
    if how == "config":
        monkeypatch.setenv("ZHIBU_LOG__JSON", "true")
    from bot.cli import cli
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        result = CliRunner().invoke(cli, (["--log-json"] if how == "flag" else []) + ["init"])
        assert result.exit_code == 0, result.output
        ours = [h for h in root.handlers if getattr(h, "zhibu", False)]
        assert len(ours) == 1
        assert isinstance(ours[0].formatter, TextFormatter if how == "neither" else JsonFormatter)
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)


def test_serve_writes_json_lines_with_the_request_id_of_each_request(tmp_path):
    """The whole path: the flag, gunicorn's workers (forked after logging is
    set up) and gunicorn's own logger, in a real `serve`."""
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ZHIBU_")},
           "ZHIBU_CONFIG": os.devnull, "ZHIBU_DATABASE__URL": f"sqlite:///{tmp_path}/s.db",
           "ZHIBU_SCHEDULER__ENABLED": "false", "ZHIBU_WECOM__TOKEN": TOKEN,
           "ZHIBU_WECOM__ENCODING_AES_KEY": AES_KEY, "ZHIBU_WECOM__CORP_ID": CORP_ID}
    err = open(tmp_path / "serve.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "bot", "--log-json", "serve", "--port", str(port),
                               "--workers", "1"], cwd=ROOT, env=env, stdout=err, stderr=subprocess.STDOUT)
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
                break
            except OSError:
                time.sleep(0.1)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/wecom/callback?msg_signature=x&timestamp=1&nonce=n",
                                         data=b"<xml/>", method="POST",
                                         headers={"X-Request-Id": "nginx0123456789abcdef"})
        try:
            urllib.request.urlopen(request, timeout=5)
        except urllib.error.HTTPError as e:
            assert e.headers["X-Request-Id"] == "nginx0123456789abcdef"
        else:
            raise AssertionError("a bad signature was accepted")
    finally:
        server.terminate()
        server.wait(timeout=15)
        err.close()
    written = (tmp_path / "serve.log").read_text("utf-8").splitlines()
    docs = [json.loads(line) for line in written]  # every line is one JSON object
    mine = [d for d in docs if d.get("request_id") == "nginx0123456789abcdef"]
    assert [d["logger"] for d in mine] == ["bot.web.callback", "bot.web.access"]


def test_gunicorns_own_lines_go_through_our_handler(captured):
    from gunicorn.config import Config
    from bot.web.server import _GunicornLog
    out = captured(json_lines=True)
    _GunicornLog(Config()).error("WORKER TIMEOUT (pid:%s)", 4242)
    (line,) = records(out)
    assert line["logger"] == "gunicorn.error" and line["message"] == "WORKER TIMEOUT (pid:4242)"
