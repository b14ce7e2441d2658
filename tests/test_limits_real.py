"""WeCom's real limits and faults (WECOM.md §3, §7), against the stand-in
with `limits="real"`: nothing counted as sent that the stand-in did not
accept, nothing sent that WeCom would drop silently, a block waited out
(delayed, never failed), a resend after a crash marked 补发."""
import logging
import os
from collections import Counter
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from bot.outbound.channel import HOUR, MARGIN, MINUTE, Pacer
from bot.outbound.worker import DeliveryWorker
from bot.wecom.client import SendError, WeComClient
from storage.db import transaction
from storage.models import Delivery
from storage.outbox import RESENT, SENDING, Message, enqueue
from tests.conftest import no_sleep, set_group_address, wire


def queue(rt, messages):
    with transaction(rt.sessions) as s:
        return enqueue(s, messages, rt.clock.now())


def rows(rt):
    with rt.sessions() as s:
        return list(s.scalars(select(Delivery).order_by(Delivery.id)))


def to_person(n, user="u700001", purpose="notice"):
    return [Message(f"member:{user}", purpose, str(i), f"通知 {i}") for i in range(n)]


def run_until_sent(rt, worker, step=timedelta(seconds=62), limit=500):
    """Drain, move the clock on, again — until nothing is pending."""
    for _ in range(limit):
        worker.drain()
        if all(r.state != "pending" for r in rows(rt)):
            return
        rt.clock.advance(seconds=step.total_seconds())
    raise AssertionError("still pending")


# ---- answers that are not WeCom's JSON: a failure, never a success -----------------------

@pytest.mark.parametrize("fault", [
    dict(body=b"<html><body>502 Bad Gateway</body></html>", http_status=502),
    dict(body=b"<html><body>Welcome to nginx!</body></html>", http_status=200),  # a wrong api_base
    dict(body=b"<!DOCTYPE html><title>404</title>", http_status=404, content_type="text/html"),
    dict(body=b"ok", http_status=200, content_type="text/plain"),
    dict(body=b'{"error": "upstream timed out"}', http_status=200, content_type="application/json"),
    dict(body=b'{"errcode": 0, "errmsg": "ok"}', http_status=500, content_type="application/json"),
    dict(body=b'{"errcode": 0, "errm', http_status=200, content_type="application/json"),  # cut short
])
def test_anything_but_wecom_json_is_a_transient_failure(wired, standin, worker, fault):
    standin.fail("webhook/send", times=3, **fault)  # every quick retry of this round
    queue(wired, [Message("org:ZB0002", "notice", "1", "通知")])
    worker.drain()
    [row] = rows(wired)
    assert row.state == "pending" and row.attempts == 1 and row.last_error
    assert standin.received() == []
    wired.clock.advance(minutes=2)
    worker.drain()
    assert rows(wired)[0].state == "sent" and len(standin.received("webhook/send")) == 1


def test_a_timeout_is_a_transient_failure(county, standin, tmp_path):
    rt = wire(county, standin)
    from bot.config import load_config
    rt.config = load_config(environ={}, use_file=False, overrides={**rt.config.values, "wecom.timeout": 1})
    worker = DeliveryWorker(rt, WeComClient(rt, sleep=no_sleep), threads=2)
    standin.fail("webhook/send", times=3, delay=1.3, errcode=0)
    queue(rt, [Message("org:ZB0002", "notice", "1", "通知")])
    worker.drain()
    [row] = rows(rt)
    assert row.state == "pending" and "Timeout" in row.last_error
    worker.pool.shutdown()


def test_media_downloads_still_work_and_an_html_page_is_not_a_file(wired, standin):
    client = WeComClient(wired, sleep=no_sleep)
    standin.add_media("M1", b"\x89PNG....", "照片.png")
    assert client.download_media("M1") == (b"\x89PNG....", "照片.png")
    standin.fail_html("media/get", http_status=200, times=3)
    with pytest.raises(SendError) as e:
        client.download_media("M1")
    assert not e.value.permanent and "HTML" in str(e.value)


def test_untrusted_ip_is_permanent_and_says_what_to_do(wired, standin, worker):
    standin.fail("message/send", errcode=60020)
    queue(wired, to_person(1))
    worker.drain()
    [row] = rows(wired)
    assert row.state == "failed" and "60020" in row.last_error and "在管理后台配置可信IP" in row.last_error
    from bot.cli import cli
    out = CliRunner().invoke(cli, ["deliveries", "--failed"], obj=wired, catch_exceptions=False).stdout
    assert "在管理后台配置可信IP" in out


def test_too_long_for_wecom_is_split_smaller_never_dropped(wired, standin, worker):
    body = "\n".join(f"第{i}行：召开支部委员会会议，研究部署本月工作" for i in range(40))
    assert len(body.encode()) < 4096  # one part by our count; WeCom says 40058 anyway
    standin.fail("webhook/send", errcode=40058)
    queue(wired, [Message("org:ZB0002", "notice", "1", body)])
    worker.drain()
    parts = [r["body"]["markdown"]["content"] for r in standin.received("webhook/send")]
    assert rows(wired)[0].state == "sent" and len(parts) >= 2
    assert all(len(p.encode()) <= len(body.encode()) // 2 for p in parts)
    assert "\n".join(parts) == body


def test_the_stand_in_enforces_content_length(wired, standin):
    client = WeComClient(wired, sleep=no_sleep)
    with pytest.raises(SendError) as e:
        client.send_user("u700001", "党" * 700)  # 2,100 bytes
    assert e.value.code == 40058


# ---- per person: 30 a minute, 1,000 an hour; over it WeCom drops silently ---------------

def test_the_stand_in_drops_silently_what_is_over_a_persons_limit(wired, standin):
    """The fault the sender must avoid: errcode 0, and the message is gone."""
    standin.state.limits = "real"
    client = WeComClient(wired, sleep=no_sleep)
    for i in range(31):
        client.send_user("u700001", f"第{i}条")
    assert len(standin.received("message/send")) == 30 and len(standin.dropped("message/send")) == 1


def test_a_person_gets_at_most_30_a_minute_and_the_rest_later(wired, standin, worker):
    standin.state.limits = "real"
    queue(wired, to_person(45) + to_person(3, user="u700002"))
    worker.drain()
    got = Counter(r["to"] for r in standin.received("message/send"))
    assert got == Counter({"u700001": 30, "u700002": 3})
    waiting = [r for r in rows(wired) if r.state == "pending"]
    assert len(waiting) == 15 and all(r.attempts == 0 and "30 条" in r.last_error for r in waiting)
    wired.clock.advance(seconds=62)
    worker.drain()
    bodies = [r["body"]["markdown"]["content"] for r in standin.received("message/send") if r["to"] == "u700001"]
    assert bodies == [f"通知 {i}" for i in range(45)]  # all, in order
    assert standin.dropped() == []


def test_a_person_gets_at_most_1000_an_hour(wired, standin):
    standin.state.limits = "real"
    worker = DeliveryWorker(wired, WeComClient(wired, sleep=no_sleep), threads=2, batch=100)
    start = wired.clock.now()
    queue(wired, to_person(1010))
    run_until_sent(wired, worker, limit=200)
    sent = sorted(r.sent_at for r in rows(wired))
    assert len(sent) == 1010 and standin.dropped() == []
    assert sent[999] < start + HOUR <= sent[1000]  # the 1,001st waited for the hour
    worker.pool.shutdown()


def test_a_new_worker_paces_from_what_the_last_one_sent(wired, standin):
    """A scheduler leader dies after sending one person 30 in a minute; the
    next leader's worker starts with empty pacers in its own memory — it
    counts the database's sent rows first, so WeCom drops nothing."""
    standin.state.limits = "real"
    first = DeliveryWorker(wired, WeComClient(wired, sleep=no_sleep), threads=2)
    queue(wired, to_person(30))
    first.drain()
    first.pool.shutdown()
    assert len(standin.received("message/send")) == 30
    wired.clock.advance(seconds=20)
    queue(wired, to_person(5, purpose="chase") + to_person(2, user="u700002"))
    second = DeliveryWorker(wired, WeComClient(wired, sleep=no_sleep), threads=2)
    second.drain()
    got = Counter(r["to"] for r in standin.received("message/send"))
    assert got == Counter({"u700001": 30, "u700002": 2}) and standin.dropped() == []
    waiting = [r for r in rows(wired) if r.state == "pending"]
    assert len(waiting) == 5 and all("30 条" in r.last_error for r in waiting)
    run_until_sent(wired, second, step=timedelta(seconds=20))
    assert len(standin.received("message/send")) == 37 and standin.dropped() == []
    second.pool.shutdown()


def test_a_scheduler_taking_the_lead_counts_again(wired, standin):
    """The same process may lead, lose the lead, and lead again: what the
    other leader sent meanwhile is counted when it takes the lead back."""
    from bot.schedule.scheduler import Scheduler
    from storage.leases import release
    standin.state.limits = "real"
    scheduler = Scheduler(wired, DeliveryWorker(wired, WeComClient(wired, sleep=no_sleep), threads=2))
    assert scheduler.is_leader() and scheduler.deliver() == 0  # leads, nothing to send: pacers counted empty
    other = DeliveryWorker(wired, WeComClient(wired, sleep=no_sleep), threads=2)  # another leader's, meanwhile
    queue(wired, to_person(30))
    other.drain()
    other.pool.shutdown()
    with transaction(wired.sessions) as s:  # our lease lapses and is taken back
        release(s, "scheduler", scheduler.holder, wired.clock.now())
    scheduler.leading = False
    queue(wired, to_person(3, purpose="chase"))
    assert scheduler.is_leader()
    scheduler.deliver()
    assert len(standin.received("message/send")) == 30 and standin.dropped() == []
    scheduler.worker.pool.shutdown()


def test_pacer_windows_together():
    now = [__import__("datetime").datetime(2026, 11, 16, 10, 0)]
    pacer = Pacer([(MINUTE, 30), (HOUR, 1000)], lambda: now[0])
    assert pacer.reserve("a", 30) is None
    assert pacer.reserve("a") == timedelta(seconds=62)  # a minute, and the margin
    assert pacer.reserve("b") is None  # per key
    step = MINUTE + MARGIN
    for batch in range(1, 33):  # 33 batches of 30: 990 in the hour
        now[0] += step
        assert pacer.reserve("a", 30) is None
    now[0] += step  # 1,020 would be over the hour: wait for the first batch to leave it
    assert pacer.reserve("a", 30) == HOUR + MARGIN - 33 * step
    assert pacer.reserve("c", 5000) is None  # more than a window holds: goes when the window is empty


# ---- app chats: person-times --------------------------------------------------------------

def chats(rt, standin, count, members):
    with transaction(rt.sessions) as s:
        from storage.addresses import add_address
        for i in range(count):
            add_address(s, f"org:C{i:04d}", "wecom_appchat", f"chat{i:04d}", rt.clock.now())
    for i in range(count):
        standin.add_chat(f"chat{i:04d}", [f"c{i}m{j}" for j in range(members)])
    return [Message(f"org:C{i:04d}", "notice", "1", f"群通知 {i}") for i in range(count)]


def test_appchat_person_times_are_never_exceeded(wired, standin, worker):
    standin.state.limits = "real"
    queue(wired, chats(wired, standin, 110, members=200))  # 110 × 200 = 22,000 person-times
    worker.drain()
    assert len(standin.received("appchat/send")) == 100  # 20,000 a minute
    assert len([r for r in rows(wired) if r.state == "pending"]) == 10
    wired.clock.advance(seconds=62)
    worker.drain()
    assert len(standin.received("appchat/send")) == 110 and standin.dropped() == []


def test_an_app_chat_takes_200_a_minute(wired, standin, worker):
    standin.state.limits = "real"
    [first] = chats(wired, standin, 1, members=3)
    queue(wired, [Message(first.audience, "notice", str(i), f"第{i}条") for i in range(205)])
    worker.drain()
    assert len(standin.received("appchat/send")) == 200
    wired.clock.advance(seconds=62)
    worker.drain()
    assert len(standin.received("appchat/send")) == 205 and standin.dropped() == []


def test_an_unknown_app_chat_is_reported(wired, standin, worker):
    standin.state.limits = "real"
    set_group_address(wired, "ZB0001", "nosuchchat", kind="wecom_appchat")
    queue(wired, [Message("org:ZB0001", "notice", "1", "通知")])
    worker.drain()
    [row] = rows(wired)
    assert row.state == "failed" and "86003" in row.last_error


def test_appchat_hourly_person_times_are_never_exceeded(wired, standin, monkeypatch):
    """The hourly cap (150,000 person-times on the smallest tier), lowered
    to 100 at both ends: 15 chats of 10 — ten go this hour, five the next,
    nothing dropped."""
    from bot.outbound.channel import Limit
    from bot.outbound.channels.wecom_appchat import WeComAppChat
    from bot.wecom.standin import Limiter
    standin.state.limits = "real"
    standin.state.person_times = Limiter(((60, 20_000), (3600, 100)))
    monkeypatch.setattr(WeComAppChat, "limits", tuple(
        Limit(((MINUTE, 20_000), (HOUR, 100)), per="corp", unit="person", label=limit.label)
        if limit.unit == "person" else limit for limit in WeComAppChat.limits))
    worker = DeliveryWorker(wired, WeComClient(wired, sleep=no_sleep), threads=2)
    start = wired.clock.now()
    queue(wired, chats(wired, standin, 15, members=10))
    worker.drain()
    assert len(standin.received("appchat/send")) == 10
    waiting = [r for r in rows(wired) if r.state == "pending"]
    assert len(waiting) == 5 and all("每小时" in r.last_error and r.attempts == 0 for r in waiting)
    run_until_sent(wired, worker, step=timedelta(minutes=5), limit=30)
    sent = sorted(r.sent_at for r in rows(wired))
    assert sent[9] < start + HOUR <= sent[10]
    assert len(standin.received("appchat/send")) == 15 and standin.dropped() == []
    worker.pool.shutdown()


def test_the_corps_calls_per_api_are_paced_not_blocked(wired, standin, monkeypatch):
    """message/send: 10,000 calls a minute and 150,000 an hour for the whole
    corp (over it: 45009 and a block), lowered to 40 and 60 at both ends:
    70 people get one message each — 40 now, 20 the next minute, the last
    10 after the hour; WeCom never has to refuse one."""
    from bot.outbound.channel import Limit
    from bot.outbound.channels.wecom_user import WeComUser
    from bot.wecom.standin import Limiter
    standin.state.limits = "real"
    standin.state.api = Limiter(((60, 40), (3600, 60)))
    monkeypatch.setattr(WeComUser, "limits", tuple(
        Limit(((MINUTE, 40), (HOUR, 60)), per="corp", label=limit.label) if limit.per == "corp" else limit
        for limit in WeComUser.limits))
    worker = DeliveryWorker(wired, WeComClient(wired, sleep=no_sleep), threads=4)
    start = wired.clock.now()
    queue(wired, [m for i in range(70) for m in to_person(1, user=f"p{i:03d}")])
    worker.drain()
    assert len(standin.received("message/send")) == 40
    wired.clock.advance(seconds=62)
    worker.drain()
    assert len(standin.received("message/send")) == 60
    run_until_sent(wired, worker, step=timedelta(minutes=5), limit=30)
    sent = sorted(r.sent_at for r in rows(wired))
    assert sent[59] < start + HOUR <= sent[60]
    assert len(standin.received("message/send")) == 70 and standin.dropped() == []
    assert standin.state.calls["message/send"] == 70  # no call refused with 45009
    worker.pool.shutdown()


# ---- 45009 / 45033 / -1: wait it out ------------------------------------------------------

def test_an_hour_block_is_waited_out_not_failed(wired, standin, worker):
    standin.block("message/send", 3600)
    start = wired.clock.now()
    queue(wired, to_person(2))
    worker.drain()
    from bot.cli import cli
    out = CliRunner().invoke(cli, ["deliveries"], obj=wired, catch_exceptions=False).stdout
    assert "45009" in out and "发）" in out  # delayed, and when it goes is shown
    calls, step = 0, 0
    while any(r.state == "pending" for r in rows(wired)):
        assert all(r.state != "failed" for r in rows(wired))
        wired.clock.at = min(r.due_at for r in rows(wired) if r.state == "pending")
        worker.drain()
        step += 1
        assert step < 20
    delivered = rows(wired)
    assert all(r.state == "sent" and r.attempts == 1 for r in delivered)
    assert min(r.sent_at for r in delivered) >= start + HOUR
    assert standin.state.calls["message/send"] <= 10  # a few probes, not one a row a minute
    assert len(standin.received("message/send")) == 2


def test_an_hour_block_shows_on_the_workbench_until_the_rows_are_sent(wired, standin, worker):
    """Delayed rows keep attempts 0 and a moving due time: staff still see
    them under 发送失败或延迟, with the reason and the next try, until sent."""
    import re
    from bot.web import create_app
    from tests.workbench import ORG, Client, add_account
    add_account(wired, ORG)
    app = create_app(runtime=wired)

    def listed() -> str:  # signed in afresh: the clock jumps past the session's idle limit
        page = Client(app, ORG).page("/dashboard/")
        return re.search(r'<section id="deliveries">(.*?)</section>', page, re.S).group(1)

    standin.block("message/send", 3600)
    start = wired.clock.now()
    queue(wired, to_person(2))

    def until(moment):  # the worker probes whenever a row falls due
        while (due := min(r.due_at for r in rows(wired) if r.state == "pending")) <= moment:
            wired.clock.at = due
            worker.drain()
        wired.clock.at = moment

    worker.drain()
    until(start + timedelta(minutes=11))  # past LATE_AFTER, the block still on
    waiting = [r for r in rows(wired) if r.state == "pending"]
    assert len(waiting) == 2 and all(r.attempts == 0 and r.due_at > wired.clock.now() for r in waiting)
    section = listed()
    assert "（2）" in section and section.count("member:u700001") == 2 and "45009" in section
    assert f"{min(r.due_at for r in waiting):%m-%d %H:%M}" in section  # when it goes next
    until(start + timedelta(minutes=50))
    assert "（2）" in listed() and standin.received("message/send") == []
    while any(r.state == "pending" for r in rows(wired)):
        wired.clock.at = max(wired.clock.now(), min(r.due_at for r in rows(wired) if r.state == "pending"))
        worker.drain()
    assert all(r.state == "sent" for r in rows(wired))
    section = listed()
    assert "（0）" in section and "member:u700001" not in section and "无" in section


def test_a_short_pacing_wait_is_not_listed_as_delayed(wired, standin, worker):
    """31 to one person: the 31st waits a minute for the pacer — not news."""
    from bot.web import create_app
    from tests.workbench import ORG, Client, add_account
    add_account(wired, ORG)
    staff = Client(create_app(runtime=wired), ORG)
    standin.state.limits = "real"
    queue(wired, to_person(31))
    worker.drain()
    assert [r.state for r in rows(wired)].count("pending") == 1
    assert "发送失败或延迟的消息（0）" in staff.page("/dashboard/")


def test_a_minute_block_waits_at_least_a_minute(wired, standin, worker):
    standin.fail("webhook/send", errcode=45033)
    queue(wired, [Message("org:ZB0002", "notice", "1", "通知")])
    worker.drain()
    [row] = rows(wired)
    assert row.state == "pending" and row.due_at >= wired.clock.now() + MINUTE and row.attempts == 0


def test_busy_that_persists_is_delayed_then_sent(wired, standin, worker):
    standin.fail("message/send", errcode=-1, times=6)  # two rounds of three quick tries
    queue(wired, to_person(1))
    worker.drain()
    assert rows(wired)[0].state == "pending" and "-1" in rows(wired)[0].last_error
    run_until_sent(wired, worker, step=timedelta(minutes=3))
    assert rows(wired)[0].state == "sent" and len(standin.received("message/send")) == 1


def test_a_day_of_refusals_is_reported_at_last(wired, standin, worker):
    standin.block("webhook/send", 3 * 86400)
    queue(wired, [Message("org:ZB0002", "notice", "1", "通知")])
    run_until_sent(wired, worker, step=timedelta(hours=1), limit=40)
    [row] = rows(wired)
    assert row.state == "failed" and "频率超限" in row.last_error


# ---- after a crash: sent again, marked 补发 --------------------------------------------------

def test_rows_of_a_dead_process_go_again_marked_resent(wired, standin, caplog):
    queue(wired, to_person(3))
    with transaction(wired.sessions) as s:  # a worker on this host that was killed mid-push
        s.execute(update(Delivery).where(Delivery.period.in_(["0", "1"]))
                  .values(state=SENDING, claimed_by=f"{os.uname().nodename}:999999999:x",
                          claimed_at=wired.clock.now()))
    caplog.set_level(logging.WARNING)
    worker = DeliveryWorker(wired, WeComClient(wired, sleep=no_sleep), threads=2)
    worker.drain()
    bodies = sorted(r["body"]["markdown"]["content"] for r in standin.received("message/send"))
    assert set(bodies) == {f"{RESENT}通知 0", f"{RESENT}通知 1", "通知 2"} and len(bodies) == 3
    assert "2 deliveries were left sending" in caplog.text
    worker.pool.shutdown()


def test_rows_stuck_sending_elsewhere_are_taken_back_marked_once(wired, standin, worker, caplog):
    queue(wired, to_person(2))
    with transaction(wired.sessions) as s:  # another host's worker, silent for 10 minutes
        s.execute(update(Delivery).values(state=SENDING, claimed_by="otherhost:1:x",
                                          claimed_at=wired.clock.now() - timedelta(minutes=10)))
        s.execute(update(Delivery).where(Delivery.body == "通知 0").values(body=RESENT + "通知 0"))
    caplog.set_level(logging.WARNING)
    worker.drain()
    bodies = sorted(r["body"]["markdown"]["content"] for r in standin.received("message/send"))
    assert bodies == [f"{RESENT}通知 0", f"{RESENT}通知 1"]  # each marked, and the marked one not twice
    assert "2 deliveries were stuck sending" in caplog.text and {r.state for r in rows(wired)} == {"sent"}


def test_resend_marking_on_database_servers(server_db_url, tmp_path, standin):
    from tests.conftest import load_county, make_runtime
    rt = wire(load_county(make_runtime(server_db_url, tmp_path)), standin)
    queue(rt, to_person(2))
    with transaction(rt.sessions) as s:
        s.execute(update(Delivery).where(Delivery.period == "0").values(
            state=SENDING, claimed_by="otherhost:1:x", claimed_at=rt.clock.now() - timedelta(minutes=10)))
    worker = DeliveryWorker(rt, WeComClient(rt, sleep=no_sleep), threads=2)
    worker.drain()
    bodies = sorted(r["body"]["markdown"]["content"] for r in standin.received("message/send"))
    assert set(bodies) == {f"{RESENT}通知 0", "通知 1"}
    worker.pool.shutdown()
    rt.engine.dispose()
