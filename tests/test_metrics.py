"""/metrics, scraped as Prometheus would and parsed with prometheus-client's
own parser: callbacks by kind and outcome, the outbox by state and channel,
the oldest pending row, the scheduler's lease; and addresses it refuses."""
from prometheus_client.parser import text_string_to_metric_families

from bot.web import create_app
from tests.wecom_peer import event_xml, text_xml


def scrape(client, **kw) -> dict[str, list]:
    response = client.get("/metrics", **kw)
    assert response.status_code == 200, response.status_code
    return {f.name: f.samples for f in text_string_to_metric_families(response.get_data(as_text=True))}


def value(samples, **labels) -> float:
    """The sum of the samples with these labels (not the `_created` timestamps)."""
    return sum(s.value for s in samples if not s.name.endswith("_created")
               and all(s.labels.get(k) == v for k, v in labels.items()))


def test_callbacks_and_the_outbox_are_counted(app, wecom, county, worker, standin):
    client = app.test_client()
    before = scrape(client)
    wecom.post(text_xml("u700001", "任务", msg_id=7_100_000_001))
    wecom.post(text_xml("u700001", "任务", msg_id=7_100_000_001))  # WeCom's retry: the same answer again
    wecom.say("s7001", "催办 1")
    wecom.post(event_xml("u700001", "click"))  # an event that needs no answer
    worker.drain()
    after = scrape(client)
    grew = lambda **l: value(after["zhibu_callbacks"], **l) - value(before.get("zhibu_callbacks", []), **l)  # noqa: E731
    assert grew(channel="app", kind="text", outcome="answered") == 3  # 任务 (twice) and 催办
    assert grew(channel="app", kind="event", outcome="silent") == 1
    deliveries = after["zhibu_deliveries"]
    assert value(deliveries, state="sent") >= 1 and value(deliveries, state="pending") == 0
    # the groups by robot or app chat; each chased branch's secretary 1:1 as a card
    assert {s.labels["channel"] for s in deliveries if s.labels["state"] == "sent"} <= \
        {"wecom_robot", "wecom_appchat", "wecom_user"}
    assert value(after["zhibu_oldest_pending_delivery_seconds"]) == 0
    latency = after["zhibu_http_request_seconds"]
    assert value(latency, route="/wecom/callback", status="200") > 0  # counts and sums present


def test_the_scheduler_lease_is_its_heartbeat(app, wired, worker):
    from bot.schedule.scheduler import Scheduler
    Scheduler(wired, worker).is_leader()
    leases = scrape(app.test_client())["zhibu_lease_seconds_left"]
    [scheduler] = [s for s in leases if s.labels["lease"] == "scheduler"]
    assert 0 < scheduler.value <= 30 and scheduler.labels["holder"]


def test_a_waiting_row_shows_its_age(app, wired):
    from storage.db import transaction
    from storage.outbox import Message, enqueue
    with transaction(wired.sessions) as s:
        enqueue(s, [Message("org:ZB0001", "notice", "1", "通知")], wired.clock.now())
    wired.clock.advance(minutes=3)
    assert value(scrape(app.test_client())["zhibu_oldest_pending_delivery_seconds"]) == 180


def test_scraping_can_be_limited_to_some_addresses(wired):
    from bot.config import load_config
    wired.config = load_config(environ={}, use_file=False,
                               overrides={**wired.config.values, "metrics.allow": "10.0.0.0/8"})
    client = create_app(runtime=wired).test_client()
    assert client.get("/metrics").status_code == 403  # the test client comes from 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200


def test_under_gunicorn_every_workers_requests_are_added_up(tmp_path):
    """`serve` runs several worker processes: a scrape answered by any one of
    them counts the requests all of them served."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.conftest import ROOT
    from tests.db_servers import free_port
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("ZHIBU_", "PROMETHEUS_"))},
           "ZHIBU_CONFIG": os.devnull, "ZHIBU_DATABASE__URL": f"sqlite:///{tmp_path}/m.db",
           "ZHIBU_SCHEDULER__ENABLED": "false"}
    subprocess.run([sys.executable, "-m", "bot", "init"], cwd=ROOT, env=env, check=True, capture_output=True)
    server = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port), "--workers", "3"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        for _ in range(30):
            urllib.request.urlopen(f"{base}/healthz", timeout=2).read()
        text = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
    finally:
        server.terminate()
        server.wait(timeout=20)
    families = {f.name: f.samples for f in text_string_to_metric_families(text)}
    served = [s for s in families["zhibu_http_request_seconds"]
              if s.name.endswith("_count") and s.labels["route"] == "/healthz"]
    assert sum(s.value for s in served) == 31
