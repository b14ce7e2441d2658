"""Promise: WeCom re-delivers an unanswered callback up to 3 times; each
message is acted on once — also when the copies arrive at the same moment —
and a copy gets the answer the first one was given (WeCom only re-delivers
when that answer did not reach it: silence would lose it)."""
import threading

from sqlalchemy import func, select

from storage.models import CheckIn, InboundMessage, Report
from tests.wecom_peer import WeComPeer, event_xml, text_xml


def count(county, model):
    with county.sessions() as s:
        return s.scalar(select(func.count(model.id)))


def test_sequential_redelivery_acts_once(wecom, county):
    message = text_xml("u700001", "完成 1 已排查", msg_id=8_000_000_001)
    first = wecom.open_reply(wecom.post(message))["Content"]
    assert "已记录" in first
    for _ in range(3):
        again = wecom.post(message)  # new nonce and signature, same MsgId
        assert again.status_code == 200 and wecom.open_reply(again)["Content"] == first
    assert count(county, Report) == 1 and count(county, InboundMessage) == 1


def test_events_are_deduplicated_by_sender_time_and_event(wecom, county):
    for _ in range(2):
        assert wecom.post(event_xml("u700001", "enter_agent", 1_700_000_500)).status_code == 200
    wecom.post(event_xml("u700001", "enter_agent", 1_700_000_501))
    assert count(county, InboundMessage) == 2


def _concurrent(app, county, message, copies=3):
    barrier = threading.Barrier(copies)
    results = []

    def deliver():
        peer = WeComPeer(app.test_client(), county.clock)
        body, query = peer.sealed(message)
        barrier.wait()
        response = peer.client.post("/wecom/callback", query_string=query, data=body)
        results.append((response.status_code, peer.open_reply(response)["Content"] if response.data else None))

    threads = [threading.Thread(target=deliver) for _ in range(copies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_three_identical_callbacks_on_three_threads_make_one_report(app, county):
    results = _concurrent(app, county, text_xml("u700001", "完成 1 已排查", msg_id=8_000_000_002))
    assert {status for status, _ in results} == {200} and len({reply for _, reply in results}) == 1
    assert "已记录" in results[0][1] and count(county, Report) == 1


def test_concurrent_checkins_on_a_database_server(server_db_url, tmp_path):
    """The same race on PostgreSQL and MariaDB: the unique key decides, not a memory set."""
    from bot.web import create_app
    from bot.config import load_config
    from tests.conftest import load_county, make_runtime
    from tests.wecom_peer import WECOM_SETTINGS
    rt = load_county(make_runtime(server_db_url, tmp_path))
    rt.config = load_config(environ={}, use_file=False, overrides={**rt.config.values, **WECOM_SETTINGS})
    app = create_app(runtime=rt)
    results = _concurrent(app, rt, text_xml("u700029", "签到", msg_id=8_000_000_003))
    assert {status for status, _ in results} == {200} and len({reply for _, reply in results}) == 1
    assert count(rt, CheckIn) == 1 and count(rt, InboundMessage) == 1
    rt.engine.dispose()
