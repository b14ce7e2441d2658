"""Promise: every sheet, reminder and broadcast is delivered exactly once per
(target, purpose, period); 45009 and expired tokens are retried; what cannot
be delivered is reported, never silently dropped."""
import threading
from collections import Counter

from sqlalchemy import func, select

from bot.outbound.worker import DeliveryWorker
from bot.wecom.client import WeComClient
from bot.schedule.pushes import monthly_sheet
from storage.db import transaction
from storage.models import Address, Delivery, Event
from storage.outbox import Message, enqueue
from tests.conftest import no_sleep, set_group_address

BRANCHES = 36  # in the sample county


def queue_sheets(rt, month="2026-11", codes=None):
    with transaction(rt.sessions) as s:
        return enqueue(s, monthly_sheet.messages(s, rt.clock.today(), month, codes), rt.clock.now())


def sheets_received(standin):
    return Counter(r["to"] for r in standin.received() if "重点工作提醒单" in str(r["body"]))


def states(rt):
    with rt.sessions() as s:
        return dict(s.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())


def test_every_branch_gets_its_sheet_once_even_if_pushed_twice(wired, standin, worker):
    assert queue_sheets(wired) == BRANCHES
    worker.drain()
    assert queue_sheets(wired) == 0  # the same keys: nothing new
    worker.drain()
    received = sheets_received(standin)
    assert len(received) == BRANCHES and set(received.values()) == {1}
    robots = [r for r in standin.received("webhook/send")]
    chats = [r for r in standin.received("appchat/send")]
    assert robots and chats  # both channels, by the roster's robot_key / chat_id
    assert robots[0]["body"]["msgtype"] == "markdown"


def test_two_workers_at_once_send_each_key_once(wired, standin):
    queue_sheets(wired)
    workers = [DeliveryWorker(wired, WeComClient(wired, sleep=no_sleep), threads=4, batch=5)
               for _ in range(3)]
    threads = [threading.Thread(target=w.drain) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(sheets_received(standin).values()) == {1} and len(sheets_received(standin)) == BRANCHES
    assert standin.state.token_fetches == 1  # one token, shared through the database


def test_two_workers_on_a_database_server(server_db_url, tmp_path, standin):
    from tests.conftest import load_county, make_runtime, wire
    rt = wire(load_county(make_runtime(server_db_url, tmp_path)), standin)
    queue_sheets(rt)
    workers = [DeliveryWorker(rt, WeComClient(rt, sleep=no_sleep), threads=4, batch=5) for _ in range(3)]
    threads = [threading.Thread(target=w.drain) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    received = sheets_received(standin)
    with rt.sessions() as s:
        stuck = [(d.target, d.state, d.attempts, d.last_error) for d in s.scalars(select(Delivery).where(Delivery.state != "sent"))]
    assert len(received) == BRANCHES and set(received.values()) == {1}, stuck
    rt.engine.dispose()


def test_rate_limit_45009_is_retried_later(wired, standin, worker):
    standin.fail("webhook/send", errcode=45009, times=1)
    queue_sheets(wired, codes=["ZB0002"])
    worker.drain()
    assert sheets_received(standin) == Counter() and states(wired) == {"pending": 1}
    wired.clock.advance(seconds=75)  # the row's due time: a minute and a bit
    worker.drain()
    assert sheets_received(standin) == Counter({"robot-7-0002": 1})


def test_expired_token_is_refreshed(wired, standin, worker):
    queue_sheets(wired, codes=["ZB0001"])  # an app chat: needs the token
    worker.drain()
    standin.expire_tokens()  # WeCom invalidated it early: 42001
    queue_sheets(wired, codes=["ZB0005"])
    worker.drain()
    assert sheets_received(standin) == Counter({"chat70001": 1, "chat70005": 1})
    assert standin.state.token_fetches == 2


def test_server_errors_and_busy_are_retried(wired, standin, worker):
    standin.fail("appchat/send", http_status=502, times=2)
    standin.fail("webhook/send", errcode=-1, times=2)
    queue_sheets(wired, codes=["ZB0001", "ZB0002"])
    worker.drain()
    assert sheets_received(standin) == Counter({"chat70001": 1, "robot-7-0002": 1})


def test_bad_robot_key_is_recorded_and_reported(wired, standin, worker):
    set_group_address(wired, "ZB0002", "bad-key-x")
    queue_sheets(wired, codes=["ZB0002", "ZB0004"])
    worker.drain()
    assert states(wired) == {"sent": 1, "failed": 1}
    with wired.sessions() as s:
        failed = s.scalar(select(Delivery).where(Delivery.state == "failed"))
        address = s.scalar(select(Address).where(Address.owner == "org:ZB0002"))
        events = s.scalars(select(Event.detail)).all()
    assert failed.target == "org:ZB0002" and "93000" in failed.last_error
    assert (address.value, failed.address) == ("bad-key-x", "bad-key-x") and "93000" in address.last_error
    assert any("ZB0002" in e and "monthly-sheet" in e for e in events)


def test_missing_group_address_is_a_failure_not_silence(wired, standin, worker):
    set_group_address(wired, "ZB0004", None)
    queue_sheets(wired, codes=["ZB0004"])
    worker.drain()
    with wired.sessions() as s:
        assert "未配置群机器人" in s.scalar(select(Delivery.last_error))


def test_robot_limit_is_honoured_without_stalling_others(wired, standin, worker):
    rows = [Message("org:ZB0002", "notice", str(i), f"通知 {i}") for i in range(25)]
    rows.append(Message("org:ZB0004", "notice", "x", "另一个群"))
    with transaction(wired.sessions) as s:
        enqueue(s, rows, wired.clock.now())
    worker.drain()
    sent = Counter(r["to"] for r in standin.received("webhook/send"))
    assert sent == Counter({"robot-7-0002": 20, "robot-7-0004": 1})
    wired.clock.advance(seconds=62)
    worker.drain()
    assert Counter(r["to"] for r in standin.received("webhook/send"))["robot-7-0002"] == 25
    bodies = [r["body"]["markdown"]["content"] for r in standin.received("webhook/send") if r["to"] == "robot-7-0002"]
    assert bodies == [f"通知 {i}" for i in range(25)]  # in order, none lost


def test_long_sheet_is_split_at_line_boundaries(wired, standin, worker, tmp_path):
    from storage.importers.plan_import import import_plan
    plan = tmp_path / "long.yaml"
    items = "".join(f"    - title: 第{i}项长任务{'很长的说明' * 8}\n      evidence: 会议记录、照片、签到表\n"
                    for i in range(60))
    plan.write_text(f"year: 2026\nmonths:\n  11:\n{items}", encoding="utf-8")
    with transaction(wired.sessions) as s:
        import_plan(s, plan, wired.clock.now())
    queue_sheets(wired, codes=["ZB0002"])
    worker.drain()
    parts = [r["body"]["markdown"]["content"] for r in standin.received("webhook/send")]
    assert len(parts) > 1 and all(len(p.encode()) <= 4096 for p in parts)
    text = "\n".join(parts)
    assert all(f"第{i}项长任务" in text for i in range(60))
    assert all(not p.startswith("\n") for p in parts)


def test_personal_message_to_invalid_user_fails_permanently(wired, standin, worker):
    with transaction(wired.sessions) as s:
        enqueue(s, [Message("member:gone001", "checkin-reminder", "2026-11", "请签到")], wired.clock.now())
    worker.drain()
    with wired.sessions() as s:
        row = s.scalar(select(Delivery))
    assert row.state == "failed" and "81013" in row.last_error


def test_user_messages_ask_wecom_for_duplicate_check(wired, standin, worker):
    with transaction(wired.sessions) as s:
        enqueue(s, [Message("member:u700001", "p", "1", "你好")], wired.clock.now())
    worker.drain()
    [sent] = standin.received("message/send")
    assert sent["body"]["enable_duplicate_check"] == 1 and sent["body"]["agentid"] == 1000002


def test_failed_deliveries_cli_lists_them(wired, standin, worker):
    from click.testing import CliRunner

    from bot.cli import cli
    set_group_address(wired, "ZB0002", "bad-key")
    queue_sheets(wired, codes=["ZB0002"])
    worker.drain()
    result = CliRunner().invoke(cli, ["deliveries", "--failed"], obj=wired, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "ZB0002" in out and "monthly-sheet" in out and "93000" in out



def test_nothing_is_pushed_at_night(wired, standin, worker):
    from datetime import datetime
    queue_sheets(wired, codes=["ZB0002"])
    wired.clock.at = datetime(2026, 11, 16, 22, 10)
    assert worker.drain() == 0 and standin.received() == []
    wired.clock.at = datetime(2026, 11, 17, 8, 1)
    worker.drain()
    assert sheets_received(standin) == Counter({"robot-7-0002": 1})


def test_secrets_and_tokens_never_reach_the_log(wired, standin, worker, caplog):
    import logging
    caplog.set_level(logging.DEBUG)
    standin.fail("appchat/send", http_status=502, times=1)
    queue_sheets(wired, codes=["ZB0001", "ZB0002"])
    worker.drain()
    standin.expire_tokens()
    queue_sheets(wired, codes=["ZB0005"])
    worker.drain()
    tokens = standin.state.tokens
    assert "app-secret" not in caplog.text and "access_token" not in caplog.text
    assert tokens and not any(t in caplog.text for t in tokens)
    with wired.sessions() as s:
        errors = " ".join(filter(None, s.scalars(select(Delivery.last_error))))
    assert "app-secret" not in errors


def test_a_log_address_is_a_channel_of_its_own(wired, standin, worker, tmp_path):
    """A channel is a file and an address row: a branch given a log file gets
    its sheet written there as plain text, and nothing reaches WeCom for it."""
    from storage.addresses import add_address
    log = tmp_path / "dry-run" / "zb0002.log"
    set_group_address(wired, "ZB0002", None)
    with transaction(wired.sessions) as s:
        add_address(s, "org:ZB0002", "log", str(log), wired.clock.now())
    queue_sheets(wired, codes=["ZB0002", "ZB0004"])
    worker.drain()
    text = log.read_text("utf-8")
    assert "2026年11月重点工作提醒单" in text and "**" not in text and "<font" not in text
    assert sheets_received(standin) == Counter({"robot-7-0004": 1})
    with wired.sessions() as s:
        row = s.scalar(select(Delivery).where(Delivery.target == "org:ZB0002"))
    assert (row.state, row.channel, row.address) == ("sent", "log", str(log))


def test_a_group_with_a_robot_and_an_app_chat_is_reached_once_by_the_robot(wired, standin, worker):
    from storage.addresses import add_address
    set_group_address(wired, "ZB0001", "chat70001", kind="wecom_appchat")
    with transaction(wired.sessions) as s:
        add_address(s, "org:ZB0001", "wecom_robot", "robot-7-0001", wired.clock.now())
    queue_sheets(wired, codes=["ZB0001"])
    worker.drain()
    assert sheets_received(standin) == Counter({"robot-7-0001": 1})


def test_a_success_clears_the_addresss_last_error(wired, standin, worker):
    set_group_address(wired, "ZB0002", "bad-key")
    queue_sheets(wired, codes=["ZB0002"])
    worker.drain()
    with transaction(wired.sessions) as s:  # staff fix the key in place: same row, new value
        s.execute(Address.__table__.update().where(Address.owner == "org:ZB0002").values(value="robot-7-0002"))
    with transaction(wired.sessions) as s:
        enqueue(s, [Message("org:ZB0002", "notice", "1", "再试一次")], wired.clock.now())
    worker.drain()
    with wired.sessions() as s:
        assert s.scalar(select(Address.last_error).where(Address.owner == "org:ZB0002")) is None
