"""Issue 17, the web edge: rows 1 (no reflected input; sign-in before any
parameter), 3 (bounded callback bodies), 13 (a committee's events are its
subtree's) and 15 (security headers, one charset, private files)."""
from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.db import make_engine, transaction, upgrade
from storage.events import add_event
from storage.models import CheckIn, Event, InboundMessage
from tests.conftest import ROOT, set_group_address
from tests.wecom_peer import AES_KEY, CORP_ID, TOKEN, media_xml
from tests.workbench import Client, accounts, app  # noqa: F401 - fixtures
from bot.wecom.crypto import signature

SCRIPT = "<script>alert(document.cookie)</script>"
PLAIN = "text/plain; charset=utf-8"


@pytest.fixture
def web(app):
    """Signed-in browsers by WeCom id (accounts: tests/workbench.py)."""
    clients = {}

    def client(user: str | None = None) -> Client:
        if user not in clients:
            clients[user] = Client(app, user)
        return clients[user]
    return client


def counts(rt) -> tuple[int, int, int]:
    with rt.sessions() as s:
        return tuple(s.scalar(select(func.count(m.id))) for m in (InboundMessage, CheckIn, Event))


# Row 1 ---------------------------------------------------------------------

EXPORTS = ["/dashboard/bulletin?month=", "/dashboard/ledger.xlsx?from=", "/dashboard/ledger.xlsx?to="]


@pytest.mark.parametrize("url", EXPORTS)
def test_signed_out_a_hostile_parameter_goes_to_sign_in_before_it_is_read(web, url):
    for client in (web(), Client(web(None).http.application)):
        response = client.get(url + SCRIPT)
        assert response.status_code == 302 and response.headers["Location"].startswith("/dashboard/login")
        assert "script" not in response.headers["Location"] and "<script" not in response.get_data(as_text=True)
    wrong = web()
    wrong.sign_in("s7001", "wrong-password")
    assert wrong.get(url + SCRIPT).status_code == 302


@pytest.mark.parametrize("url", EXPORTS)
def test_a_bad_month_is_refused_without_repeating_it(web, url):
    secretary = web("u700001").get(url + SCRIPT)  # the bulletin is staff's: refused before the month is read
    assert secretary.status_code == (403 if "bulletin" in url else 400)
    response = web("s7004").get(url + SCRIPT)
    assert response.status_code == 400 and response.content_type == PLAIN
    assert "script" not in response.get_data(as_text=True) and "YYYY-MM" in response.get_data(as_text=True)


@pytest.mark.parametrize("method, url", [("GET", "/dashboard/" + SCRIPT), ("GET", "/" + SCRIPT + "?x=" + SCRIPT),
                                         ("DELETE", "/dashboard/"), ("PUT", "/wecom/callback?" + SCRIPT)])
def test_framework_errors_are_plain_text_without_the_request(web, method, url):
    response = web("s7001").http.open(url, method=method)
    assert response.status_code in (404, 405) and response.content_type == PLAIN
    assert "script" not in response.get_data(as_text=True)


# Row 3 ---------------------------------------------------------------------

def signed_query(rt, encrypt: str = "abc") -> dict[str, str]:
    ts = str(rt.clock.epoch())
    return {"msg_signature": signature(TOKEN, ts, "n", encrypt), "timestamp": ts, "nonce": "n"}


@pytest.mark.parametrize("body", [
    b"<xml>" + b"<a/>" * 16_381 + b"</xml>",                      # 64 KB of empty elements
    b"<xml>" + b"<a>" * 8_000 + b"</a>" * 8_000 + b"</xml>",      # nested 8,000 deep
    b"<xml><Encrypt>abc</Encrypt>" + b"<!-- -->" * 8_000 + b"<a/>" * 20 + b"</xml>",
], ids=["empty-elements", "nested", "signed-envelope-with-extra-elements"])
def test_a_hostile_envelope_under_the_cap_is_refused_and_changes_nothing(app, county, body):
    assert len(body) <= 64 * 1024
    before = counts(county)
    response = app.test_client().post("/wecom/callback", data=body, query_string=signed_query(county))
    assert response.status_code == 400 and counts(county) == before


def test_a_body_over_64_kb_is_refused_unread(app, county, monkeypatch):
    monkeypatch.setattr("bot.web.callback.envelope_xml", lambda body: pytest.fail("the body was parsed"))
    response = app.test_client().post("/wecom/callback", data=b"<xml>" + b" " * (64 * 1024) + b"</xml>",
                                      query_string=signed_query(county))
    assert response.status_code == 413 and response.content_type == PLAIN and counts(county) == (0, 0, 0)


def test_an_unsigned_or_stale_query_is_refused_before_the_body_is_parsed(app, county, monkeypatch):
    monkeypatch.setattr("bot.web.callback.envelope_xml", lambda body: pytest.fail("the body was parsed"))
    client = app.test_client()
    stale = {**signed_query(county), "timestamp": str(county.clock.epoch() - 3600)}
    for query in (stale, {"timestamp": "¹²³", "nonce": "n", "msg_signature": "0" * 40},
                  {**signed_query(county), "msg_signature": "签名" * 20}, {}):
        assert client.post("/wecom/callback", data=b"<xml/>", query_string=query).status_code == 403


def test_smart_robot_json_nested_past_the_stack_is_a_400(app, county):
    query = signed_query(county)
    response = app.test_client().post("/wecom/aibot", data=b"[" * 60_000, query_string=query)
    assert response.status_code == 400 and counts(county) == (0, 0, 0)


# Row 13 --------------------------------------------------------------------

def events_section(page: str) -> str:
    return page.split("需要留意的事件", 1)[1].split("</section>", 1)[0]


def test_a_committee_sees_only_its_subtrees_events(web, wired, worker, wecom):
    set_group_address(wired, "ZB0002", "bad-key-inside")    # 县直机关工委's (DW01)
    set_group_address(wired, "ZB0004", "bad-key-outside")   # 龙泉乡's (DW02)
    wecom.say("s7001", "催办 1")
    worker.drain()
    with transaction(wired.sessions) as s:
        add_event(s, "missed-run", "定时任务 daily 未能按时运行", wired.clock.now())  # the deployment's own
    county_page = events_section(web("s7001").page("/dashboard/"))
    committee_page = events_section(web("s7004").page("/dashboard/"))
    assert "org:ZB0002" in county_page and "org:ZB0004" in county_page and "定时任务补推" in county_page
    assert "org:ZB0002" in committee_page
    assert "org:ZB0004" not in committee_page and "定时任务补推" not in committee_page
    with wired.sessions() as s:
        assert {"org:ZB0002", "org:ZB0004", None} <= set(s.scalars(select(Event.scope)))


# Row 15 --------------------------------------------------------------------

def test_every_page_carries_the_security_headers_and_one_charset(web):
    org, anyone = web("s7001"), web()
    for client, url in [(org, "/dashboard/"), (anyone, "/dashboard/"), (anyone, "/nowhere"), (anyone, "/dashboard/login"),
                        (org, "/dashboard/bulletin?month=2026-11"), (anyone, "/healthz"),
                        (anyone, "/dashboard/static/workbench.js")]:
        response = client.get(url)
        assert response.headers["X-Frame-Options"] == "DENY", url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        # Scripts only on the workbench's own pages, only as files from this site: never inline.
        page = response.mimetype == "text/html" and url.startswith("/dashboard/") and response.status_code == 200
        assert ("script-src 'self'" in csp) == page and "unsafe" not in csp, (url, csp)
        assert response.headers["Content-Type"].count("charset") <= 1
    assert org.get("/dashboard/").headers["Content-Type"] == "text/html; charset=utf-8"
    assert org.get("/dashboard/bulletin?month=2026-11").headers["Content-Type"] == PLAIN


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)  # what most systems give
    yield
    os.umask(old)


def test_the_sqlite_database_and_its_wal_and_shm_are_the_owners_alone(tmp_path, loose_umask):
    engine = make_engine(f"sqlite:///{tmp_path}/data/zhibu.db")
    upgrade(engine)
    with engine.connect():  # the -wal and -shm exist while a connection is open
        files = sorted(p.name for p in (tmp_path / "data").iterdir())
        assert files == ["zhibu.db", "zhibu.db-shm", "zhibu.db-wal"]
        assert {mode(tmp_path / "data" / f) for f in files} == {0o600}
    assert mode(tmp_path / "data") == 0o700
    engine.dispose()


def test_evidence_files_are_the_owners_alone(county, wecom, standin, worker, loose_umask):
    from bot.wecom.media import fetch_pending
    photo = b"\xff\xd8\xff\xe0" + b"jpeg" * 10
    standin.add_media("MEDIA_p", photo, "p.jpg")
    wecom.say("u700001", "完成 1 已排查")
    wecom.post(media_xml("u700001", "image", "MEDIA_p"))
    assert fetch_pending(county, worker.client) == 1
    folder = Path(county.config["server.media_dir"])
    (saved,) = folder.iterdir()
    assert mode(folder) == 0o700 and mode(saved) == 0o600
    assert hashlib.sha256(saved.read_bytes()).hexdigest().startswith(saved.name[:16])


def test_exports_written_by_the_cli_are_the_owners_alone(tmp_path, loose_umask):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ZHIBU_")},
           "ZHIBU_CONFIG": os.devnull, "ZHIBU_DATABASE__URL": f"sqlite:///{tmp_path}/e.db"}
    out = tmp_path / "exports" / "ledger.xlsx"
    subprocess.run([sys.executable, "-m", "bot", "ledger", "-o", str(out)], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    assert mode(out) == 0o600 and mode(out.parent) == 0o700 and mode(tmp_path / "e.db") == 0o600
