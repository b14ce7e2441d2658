"""The smart robot's long connection (issue 19, doc 101463): the bot opens a
WebSocket to WeCom — here the stand-in's real endpoint (bot/wecom/standin_ws.py)
— subscribes, keeps a heartbeat, and every frame goes to the handlers the
callback uses; answers and pushes go back on the connection."""
import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.config import load_config
from bot.outbound.worker import DeliveryWorker
from bot.wecom import longconn
from bot.wecom.aibot_link import AibotLink
from bot.wecom.client import WeComClient
from bot.wecom.media import fetch_pending
from storage.db import transaction
from storage.events import recent_events
from storage.leases import state_of
from storage.models import CheckIn, Delivery, Evidence, InboundMessage, Lease, Meeting, Report
from storage.outbox import Message, enqueue
from tests.conftest import no_sleep, set_group_address

BOT_ID, BOT_SECRET = "aibot-zhibu", "the-bot-secret"
SECRETARY = "u700001"    # 吕丽刚, 书记, ZB0001
MOBILE = "u700029"       # a mobile member
GROUP = "wrGroupZB0001"
ROOT = Path(__file__).resolve().parent.parent


def until(condition, seconds: float = 10.0, what: str = "condition"):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def long_mode(rt, standin, **overrides):
    rt.config = load_config(environ={}, use_file=False, overrides={
        **rt.config.values, "aibot.mode": "long_connection", "aibot.bot_id": BOT_ID,
        "aibot.secret": BOT_SECRET, "aibot.ws_url": standin.ws_url, "scheduler.lease_seconds": 3, **overrides})
    return rt


@pytest.fixture
def live(wired, standin):
    standin.aibot.add_bot(BOT_ID, BOT_SECRET)
    return long_mode(wired, standin)


@pytest.fixture
def link(live, standin):
    started = AibotLink(live).start()
    started.connection.backoff = (0.05,)
    until(lambda: standin.aibot.connected(BOT_ID) == 1, what="the subscription")
    yield started
    started.stop()


@pytest.fixture
def sender(live):
    w = DeliveryWorker(live, WeComClient(live, sleep=no_sleep), threads=2)
    yield w
    w.pool.shutdown()


def body(user: str, text: str | None = None, chat: str | None = GROUP, msgtype: str = "text", **fields) -> dict:
    doc = {"msgid": secrets.token_hex(10), "aibotid": BOT_ID, "chattype": "group" if chat else "single",
           "from": {"userid": user}, "create_time": 1_790_000_000, "msgtype": msgtype, **fields}
    if chat:
        doc["chatid"] = chat
    if text is not None:
        doc["text"] = {"content": text}
    return doc


def replies(standin, req_id: str, cmd: str = "aibot_respond_msg") -> list[dict]:
    return [r["body"] for r in standin.received(f"aibot_ws/{cmd}") if r["to"] == req_id]


def answer(standin, req_id: str) -> str:
    """The finished stream answer to a message frame."""
    done = until(lambda: [b for b in replies(standin, req_id) if b["stream"]["finish"]], what="the answer")
    return done[-1]["stream"]["content"]


def count(rt, model) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def lease(rt):
    with rt.sessions() as s:
        return state_of(s, longconn.LEASE)


# ---- subscribing --------------------------------------------------------------------------

def test_a_wrong_secret_is_refused_reported_and_not_retried_in_a_loop(wired, standin, app):
    standin.aibot.add_bot(BOT_ID, BOT_SECRET)
    rt = long_mode(wired, standin, **{"aibot.secret": "not-the-secret"})
    link = AibotLink(rt).start()
    try:
        until(lambda: (lease(rt) or None) and lease(rt).state == longconn.REFUSED, what="the refusal")
        assert "853000" in lease(rt).detail and "aibot.secret" in lease(rt).detail
        time.sleep(0.5)  # no fight: one subscribe, then a wait of minutes
        assert [s["ok"] for s in standin.aibot.subscriptions] == [False]
        assert standin.aibot.connected() == 0
        with rt.sessions() as s:
            assert [e.kind for e in recent_events(s)] == ["aibot-refused"]
        app.extensions["zhibu"].config = rt.config
        health = app.test_client().get("/healthz").get_json()
        assert health["ok"] is True and health["long_connection"]["up"] is False
        assert health["long_connection"]["state"] == "refused"
    finally:
        link.stop()


def test_subscribed_with_id_and_secret_and_healthz_says_since_when(link, live, standin, app):
    assert standin.aibot.subscriptions == [{"bot_id": BOT_ID, "ok": True, "at": standin.aibot.subscriptions[0]["at"]}]
    app.extensions["zhibu"].config = live.config
    health = app.test_client().get("/healthz").get_json()["long_connection"]
    assert health["up"] is True and health["state"] == "connected"
    assert health["since"] == live.clock.now().isoformat(timespec="seconds")
    assert "zhibu_long_connection_up 1.0" in app.test_client().get("/metrics").get_data(as_text=True)
    link.stop()
    health = app.test_client().get("/healthz").get_json()["long_connection"]
    assert health["up"] is False and health["state"] == "stopped"
    assert "zhibu_long_connection_up 0.0" in app.test_client().get("/metrics").get_data(as_text=True)


# ---- every kind reaches the same handlers --------------------------------------------------

def test_report_meeting_check_in_and_card_click_reach_the_callbacks_handlers(link, live, standin, app):
    report = standin.aibot.push(body(SECRETARY, "@支部通 完成 1 已排查完毕"))
    assert "已记录：第1项" in answer(standin, report)
    meeting = standin.aibot.push(body("u700041", "@支部通 会议 支委会 2026-11-13 出席 4/5 请假 高明静",
                                      chat="wrGroupZB0004"))  # 贺东刚, 书记 of ZB0004
    assert "出席 4/5" in answer(standin, meeting)
    checkin = standin.aibot.push(body(MOBILE, "签到 在东莞打工", chat=None))  # 1:1: no chatid
    assert "签到成功" in answer(standin, checkin)
    card = body(SECRETARY, msgtype="event", event={
        "eventtype": "template_card_event",
        "template_card_event": {"card_type": "button_interaction", "event_key": "ack", "task_id": "t1"}})
    standin.aibot.push(card, event=True)
    until(lambda: count(live, InboundMessage) == 4, what="the card click in the inbound log")
    # the same click through the callback: the same dispatch, the same outcome
    from tests.wecom_peer import AibotPeer
    peer = AibotPeer(app.test_client(), live.clock)
    peer.post(peer.message(SECRETARY, "event", event=card["event"]))
    with live.sessions() as s:
        by_callback = s.scalar(select(InboundMessage.outcome).where(InboundMessage.dedupe_key.like("aibot:aibot-%")))
    with live.sessions() as s:
        assert s.scalar(select(Report.note)) == "已排查完毕"
        assert s.scalar(select(func.count(Meeting.id))) == 1 and s.scalar(select(func.count(CheckIn.id))) == 1
        logged = s.execute(select(InboundMessage.dedupe_key, InboundMessage.channel, InboundMessage.msg_type,
                                  InboundMessage.outcome).order_by(InboundMessage.id)).all()
    # the same Inbound as the callback: channel aibot, dedupe key aibot:<msgid>, the same outcomes
    assert [row[1:] for row in logged[:3]] == [("aibot", "text", "done"), ("aibot", "text", "meeting"),
                                               ("aibot", "text", "checkin")]
    assert logged[3][:3] == (f"aibot:{card['msgid']}", "aibot", "event") and logged[3][3] == by_callback


def test_a_real_card_key_pressed_over_the_connection_is_acknowledged_once(link, live, standin, app):
    """A chased secretary's own card: its 收到 key pressed over the WebSocket
    (twice: a repeated frame) acknowledges the task once; the same key
    pressed again through the app's callback changes nothing."""
    from tests.test_cards import assignment, chased, press, publish, texts_to
    from tests.wecom_peer import WeComPeer
    live.config = load_config(environ={}, use_file=False, overrides={**live.config.values, "wecom.cards": "true"})
    wecom = WeComPeer(app.test_client(), live.clock)
    worker = DeliveryWorker(live, WeComClient(live, sleep=no_sleep), threads=2)
    try:
        task = publish(wecom, live)
        card = chased(wecom, standin, worker, task.number)
        [ack] = [b["key"] for b in card["button_list"] if b["text"] == "收到"]
        click = body(SECRETARY, chat=None, msgtype="event", event={
            "eventtype": "template_card_event",
            "template_card_event": {"card_type": "button_interaction", "event_key": ack, "task_id": card["task_id"]}})
        standin.aibot.push(click, event=True, times=2)
        until(lambda: getattr(assignment(live, task), "acknowledged_at", None), what="the acknowledgement")
        pressed_at = assignment(live, task).acknowledged_at
        assert pressed_at == live.clock.now()
        until(lambda: count(live, InboundMessage) >= 3, what="the click in the inbound log")
        time.sleep(0.3)  # the repeated frame has arrived too
        with live.sessions() as s:
            clicks = s.scalars(select(InboundMessage).where(InboundMessage.dedupe_key == f"aibot:{click['msgid']}")).all()
        assert len(clicks) == 1
        worker.drain()
        said = [t for t in texts_to(standin, SECRETARY) if t.startswith("已收到")]
        live.clock.advance(minutes=5)
        press(wecom, standin, SECRETARY, card, "收到")  # the same key through the callback
        worker.drain()
        assert assignment(live, task).acknowledged_at == pressed_at  # recorded once
        again = [t for t in texts_to(standin, SECRETARY) if t.startswith("已收到")]
        assert len(said) == 1 and again == said, texts_to(standin, SECRETARY)
    finally:
        worker.pool.shutdown()


def test_enter_chat_is_greeted_with_a_welcome_reply(link, live, standin):
    req = standin.aibot.push(body(SECRETARY, msgtype="event", chat=None, event={"eventtype": "enter_chat"}),
                             event=True)
    welcome = until(lambda: replies(standin, req, "aibot_respond_welcome_msg"), what="the welcome")
    assert welcome[0]["msgtype"] == "text" and "吕丽刚" in welcome[0]["text"]["content"]


def test_a_frame_delivered_twice_is_acted_on_once(link, live, standin):
    req = standin.aibot.push(body(SECRETARY, "@支部通 完成 1 已排查完毕"), times=2)
    until(lambda: len([b for b in replies(standin, req) if b["stream"]["finish"]]) == 2, what="both answers")
    assert count(live, Report) == 1 and count(live, InboundMessage) == 1


def test_a_photo_is_downloaded_and_decrypted_with_its_own_key(link, live, standin, sender):
    photo = b"\xff\xd8\xff\xe0" + os.urandom(3000)
    own_key = base64.b64encode(os.urandom(32)).decode()   # 44 characters, "=" at the end, as frames carry it
    url = standin.add_encrypted_media(photo, own_key.rstrip("="))
    items = [{"msgtype": "text", "text": {"content": "@支部通 完成 1 已排查"}},
             {"msgtype": "image", "image": {"url": url, "aeskey": own_key}}]
    req = standin.aibot.push(body(SECRETARY, msgtype="mixed", mixed={"msg_item": items}))
    assert "已将照片作为第1项" in answer(standin, req)
    assert fetch_pending(live, sender.client) == 1
    with live.sessions() as s:
        saved = s.scalars(select(Evidence)).one()
    assert Path(saved.path).read_bytes() == photo and saved.last_error is None


def test_a_single_image_and_a_file_in_1to1_are_the_last_reports_evidence(link, live, standin, sender):
    assert "已记录：第1项" in answer(standin, standin.aibot.push(body(SECRETARY, "完成 1 已排查", chat=None)))
    photo, table = b"\xff\xd8\xff\xe0" + os.urandom(2000), b"%PDF-1.7 " + os.urandom(4000)
    keys = [base64.b64encode(os.urandom(32)).decode() for _ in range(2)]  # each frame its own key
    photo_url = standin.add_encrypted_media(photo, keys[0].rstrip("="))
    file_url = standin.add_encrypted_media(table, keys[1].rstrip("="))
    image = standin.aibot.push(body(SECRETARY, chat=None, msgtype="image", image={"url": photo_url, "aeskey": keys[0]}))
    assert "已将照片作为第1项" in answer(standin, image)
    sent_file = standin.aibot.push(body(SECRETARY, chat=None, msgtype="file", file={"url": file_url, "aeskey": keys[1]}))
    assert "已将文件作为第1项" in answer(standin, sent_file)
    assert fetch_pending(live, sender.client) == 2
    with live.sessions() as s:
        saved = s.scalars(select(Evidence).order_by(Evidence.id)).all()
    assert [Path(e.path).read_bytes() for e in saved] == [photo, table] and saved[1].path.endswith(".pdf")
    assert count(live, Report) == 1


def test_voice_over_the_connection_is_a_command_by_its_text(link, live, standin):
    req = standin.aibot.push(body(SECRETARY, chat=None, msgtype="voice", voice={"content": "完成1，已排查完毕。"}))
    assert "已记录：第1项" in answer(standin, req)
    with live.sessions() as s:
        assert s.scalar(select(Report.note)) == "已排查完毕"
        assert s.scalar(select(InboundMessage.msg_type)) == "voice"


# ---- losing the connection -----------------------------------------------------------------

def test_killed_mid_conversation_it_reconnects_and_loses_nothing(link, live, standin, sender):
    """The answer is being written when the connection drops: it cannot go
    on the new connection (the req_id was the old one's), so it goes as a
    push once the bot is back; a message sent meanwhile is answered too."""
    first = standin.aibot.push(body(SECRETARY, "@支部通 完成 1 已排查完毕"))
    assert "已记录：第1项" in answer(standin, first)
    with live.engine.connect() as blocker:  # the database is busy: the handler waits
        blocker.exec_driver_sql("BEGIN IMMEDIATE")
        second = standin.aibot.push(body(SECRETARY, "@支部通 完成 2 已完成"))
        time.sleep(0.3)
        assert standin.aibot.kill(BOT_ID)
        until(lambda: standin.aibot.connected(BOT_ID) == 0, what="the cut")
        third = standin.aibot.push(body(SECRETARY, "@支部通 进度"))  # held by WeCom until the bot is back
        blocker.exec_driver_sql("COMMIT")
    until(lambda: standin.aibot.connected(BOT_ID) == 1, what="the reconnection")
    assert [s["ok"] for s in standin.aibot.subscriptions] == [True, True]
    assert answer(standin, third)
    until(lambda: count(live, Delivery) == 1, what="the answer queued as a push")
    until(lambda: sender.drain() and standin.received("aibot_ws/aibot_send_msg"), what="the push")
    sender.drain()
    pushed = standin.received("aibot_ws/aibot_send_msg")
    assert len(pushed) == 1 and pushed[0]["to"] == GROUP and "已记录：第2项" in pushed[0]["body"]["markdown"]["content"]
    assert not [b for b in replies(standin, second) if b["stream"]["finish"]]
    assert count(live, Report) == 2


def test_no_heartbeat_answer_means_a_dead_connection_and_a_new_one(link, live, standin):
    link.connection.heartbeat = 0.1
    standin.aibot.mute_pings = True
    until(lambda: len(standin.aibot.subscriptions) == 2, what="a new subscription after two silent pings")
    standin.aibot.mute_pings = False
    until(lambda: standin.aibot.connected(BOT_ID) == 1 and link.connection.connected, what="the new connection")


def test_replaced_by_a_newer_connection_it_steps_aside_and_reports(link, live, standin):
    assert standin.aibot.replace(BOT_ID)
    until(lambda: lease(live).state == longconn.REPLACED, what="the replaced state")
    time.sleep(0.5)
    assert len(standin.aibot.subscriptions) == 1  # no fight: it waits minutes before trying again
    with live.sessions() as s:
        assert [e.kind for e in recent_events(s)] == ["aibot-replaced"]


def test_two_holders_one_connection_and_the_second_takes_over_at_a_graceful_stop(link, live, standin):
    second = AibotLink(live).start()
    try:
        time.sleep(1.5)  # the second keeps checking the lease: it is held
        assert standin.aibot.connected(BOT_ID) == 1 and len(standin.aibot.subscriptions) == 1
        assert lease(live).holder == link.connection.holder
        link.stop()  # gives the lease up at once
        until(lambda: second.connection.connected, what="the second holder's connection")
        assert standin.aibot.connected(BOT_ID) == 1 and lease(live).holder == second.connection.holder
    finally:
        second.stop()


# ---- pushes --------------------------------------------------------------------------------

def test_a_push_to_a_group_goes_over_the_connection_once_without_a_webhook_key(live, standin, sender):
    set_group_address(live, "ZB0001", GROUP, kind="aibot_chat")  # no robot key, no app chat
    with transaction(live.sessions) as s:
        enqueue(s, [Message("org:ZB0001", "notice", "2026-11", "**通知**：本周五前上报")], live.clock.now())
    sender.drain()  # the connection is not up yet: not sent, kept for later
    with live.sessions() as s:
        row = s.scalars(select(Delivery)).one()
        assert row.state == "pending" and "长连接未建立" in row.last_error
    link = AibotLink(live).start()
    try:
        until(lambda: link.connection.connected, what="the connection")
        live.clock.advance(minutes=10)
        sender.drain()
        sender.drain()
        pushed = standin.received("aibot_ws/aibot_send_msg")
        assert len(pushed) == 1 and pushed[0]["to"] == GROUP
        assert pushed[0]["body"]["msgtype"] == "markdown" and "本周五前上报" in pushed[0]["body"]["markdown"]["content"]
        with live.sessions() as s:
            row = s.scalars(select(Delivery)).one()
            assert (row.state, row.channel, row.address) == ("sent", "aibot_chat", GROUP)
    finally:
        link.stop()


# ---- processes -----------------------------------------------------------------------------

def _config_file(tmp_path, standin, db: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps({
        "database": {"url": db}, "wecom": {"api_base": standin.api_base, "corp_id": "wwcorp", "secret": "s"},
        "aibot": {"mode": "long_connection", "bot_id": BOT_ID, "secret": BOT_SECRET, "ws_url": standin.ws_url},
        "scheduler": {"lease_seconds": 3, "monthly_push_time": "23:59"},
        "server": {"media_dir": str(tmp_path / "media")}}), "utf-8")
    return path


def test_two_scheduler_processes_hold_one_connection_and_sigterm_hands_it_over(tmp_path, standin, runtime):
    """Real processes: the leader holds the connection, the other waits; a
    SIGTERM gives both leases up at once (the known leftover: the scheduler
    kept its lease until it expired)."""
    standin.aibot.add_bot(BOT_ID, BOT_SECRET)
    config = _config_file(tmp_path, standin, str(runtime.engine.url))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen([sys.executable, "-m", "bot", "-c", str(config), "scheduler"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    second = None
    try:
        until(lambda: standin.aibot.connected(BOT_ID) == 1, 30, "the first process's connection")
        # another host: it may not take a lease of a dead process at once, only one given up (or expired)
        second = subprocess.Popen([sys.executable, "-m", "bot", "-c", str(config), "scheduler"], cwd=ROOT,
                                  env={**env, "ZHIBU_SERVER__HOST_ID": "host-b"},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(4)  # started, and checking the leases
        assert second.poll() is None
        assert len(standin.aibot.subscriptions) == 1 and standin.aibot.connected(BOT_ID) == 1
        first.send_signal(signal.SIGTERM)
        assert first.wait(15) == 0
        now = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
        with runtime.sessions() as s:
            leases = {row.name: row for row in s.scalars(select(Lease))}
        for name in ("scheduler", longconn.LEASE):  # given up (a lease kept would run 3 s more)
            held = leases[name]
            assert held.holder.startswith("host-b:") or (str(first.pid) in held.holder and held.expires_at < now)
        assert leases[longconn.LEASE].holder.startswith("host-b:") or leases[longconn.LEASE].state == "stopped"
        until(lambda: len([s for s in standin.aibot.subscriptions if s["ok"]]) == 2, 20, "the second's subscription")
        assert standin.aibot.connected(BOT_ID) == 1
        until(lambda: lease(runtime).holder.startswith(f"host-b:{second.pid}:"), 10, "the second's lease")
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(15)


def test_a_groups_chat_is_learned_from_its_first_message_and_pushes_go_there(link, live, standin, sender):
    set_group_address(live, "ZB0001", None)  # no robot key, no app chat: nothing reaches the group yet
    assert "已记录：第1项" in answer(standin, standin.aibot.push(body(SECRETARY, "@支部通 完成 1 已排查完毕")))
    other = standin.aibot.push(body("u700041", "@支部通 任务"))  # ZB0004's secretary in ZB0001's group
    assert answer(standin, other)
    with live.sessions() as s:
        from storage.addresses import addresses_of
        assert [(r.kind, r.value) for r in addresses_of(s, ["org:ZB0001"])["org:ZB0001"]] == [("aibot_chat", GROUP)]
        assert "org:ZB0004" not in addresses_of(s, ["org:ZB0004"]) or all(
            r.value != GROUP for r in addresses_of(s, ["org:ZB0004"])["org:ZB0004"])
        assert [e.kind for e in recent_events(s)] == ["aibot-chat-shared"]
    with transaction(live.sessions) as s:
        enqueue(s, [Message("org:ZB0001", "notice", "2026-11", "本月提醒单")], live.clock.now())
    sender.drain()
    pushed = standin.received("aibot_ws/aibot_send_msg")
    assert [(p["to"], p["body"]["markdown"]["content"]) for p in pushed] == [(GROUP, "本月提醒单")]


def test_doctor_says_connected_since_when_or_refused(live, standin):
    import dataclasses
    from click.testing import CliRunner
    from bot.cli import cli
    from bot.clock import Clock

    def line(rt) -> str:
        output = CliRunner().invoke(cli, ["doctor"], obj=rt).output
        return next(l for l in output.splitlines() if "长连接 long connection" in l)

    rt = dataclasses.replace(live, clock=Clock(live.clock.zone))  # doctor compares leases with real time
    link = AibotLink(rt).start()
    until(lambda: link.connection.connected, what="the connection")
    try:
        assert line(rt).startswith("[通过 OK]") and "已连接，自 20" in line(rt) and standin.ws_url in line(rt)
    finally:
        link.stop()
    assert line(rt).startswith("[警告 WARN]") and "无进程持有" in line(rt)
    refused = dataclasses.replace(rt, config=long_mode(dataclasses.replace(rt), standin,
                                                       **{"aibot.secret": "wrong"}).config)
    link = AibotLink(refused).start()
    try:
        until(lambda: lease(refused).state == longconn.REFUSED, what="the refusal")
        assert line(refused).startswith("[失败 FAIL]") and "853000" in line(refused)
    finally:
        link.stop()


def test_the_stand_in_takes_frames_from_another_process_over_http(link, standin):
    import urllib.request
    frame = {"body": body(SECRETARY, "@支部通 任务")}
    request = urllib.request.Request(standin.api_base.replace("/cgi-bin/", "/_standin/aibot-push"),
                                     data=json.dumps(frame).encode(), method="POST")
    req_id = json.loads(urllib.request.urlopen(request, timeout=5).read())["req_id"]
    assert "2026年11月任务" in answer(standin, req_id)


def test_a_malformed_frame_is_refused_and_the_connection_goes_on(link, live, standin):
    items = [{"msgtype": "text", "text": {"content": "@支部通 完成 1"}},
             {"msgtype": "image", "image": {"url": "https://example.invalid/x", "aeskey": "not a key"}}]
    standin.aibot.push(body(SECRETARY, msgtype="mixed", mixed={"msg_item": items}))
    standin.aibot.push(body(SECRETARY, msgtype="text") | {"text": "完成 1"})  # text a string, not an object
    assert "2026年11月任务" in answer(standin, standin.aibot.push(body(SECRETARY, "@支部通 任务")))
    assert count(live, Report) == 0 and count(live, InboundMessage) == 1
    assert link.connection.connected and len(standin.aibot.subscriptions) == 1


def test_a_slow_answer_opens_the_stream_at_once_and_finishes_it(wired, standin):
    standin.aibot.add_bot(BOT_ID, BOT_SECRET)
    rt = long_mode(wired, standin, **{"server.answer_within": 0.2})
    link = AibotLink(rt).start()
    try:
        until(lambda: link.connection.connected, what="the connection")
        with rt.engine.connect() as blocker:  # the database is busy for a second
            blocker.exec_driver_sql("BEGIN IMMEDIATE")
            req = standin.aibot.push(body(SECRETARY, "@支部通 完成 1 已排查完毕"))
            opened = until(lambda: replies(standin, req), what="the opened stream")
            assert opened[0]["stream"] == {"id": opened[0]["stream"]["id"], "finish": False,
                                           "content": "正在处理，请稍候……"}
            time.sleep(1)
            blocker.exec_driver_sql("COMMIT")
        assert "已记录：第1项" in answer(standin, req)
        streams = replies(standin, req)
        assert len(streams) == 2 and streams[1]["stream"]["id"] == streams[0]["stream"]["id"]
        assert count(rt, Delivery) == 0  # it went on the stream, not as a push
    finally:
        link.stop()


def test_a_lapsed_lease_hands_the_connection_over_without_a_fight(live, standin):
    """The holder stopped renewing (its database away, say) and another
    process took the lease: the new holder connects, the old one steps
    down on the disconnected_event — no event for staff, no reconnect."""
    first = AibotLink(live)
    first.connection.ttl = timedelta(minutes=5)  # it renews every 100 s: not within this test
    first.start()
    until(lambda: first.connection.connected, what="the first holder's connection")
    second = AibotLink(live).start()
    try:
        time.sleep(0.5)
        live.clock.advance(minutes=6)  # the first's lease has lapsed (on the clock every process reads)
        until(lambda: second.connection.connected, what="the second holder's connection")
        until(lambda: not first.connection.connected, what="the first stepping down")
        time.sleep(1.5)
        assert [s["ok"] for s in standin.aibot.subscriptions] == [True, True]
        assert standin.aibot.connected(BOT_ID) == 1 and lease(live).holder == second.connection.holder
        with live.sessions() as s:
            assert recent_events(s) == []
    finally:
        second.stop()
        first.stop()
