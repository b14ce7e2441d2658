"""Cards only where their clicks can come back (bot/config.py app_cards): a
card's buttons reach us only at the app's callback, which WeCom cannot
reach on an intranet deployment that runs the smart robot's long
connection — there, and wherever `wecom.cards: false` says so, personal
reminders and chases go as their text version with the matching commands,
the commands work, and `doctor` says why. `wecom.plain_text_users: all`
gives everyone text."""
import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.config import app_cards, load_config
from bot.outbound.worker import DeliveryWorker
from bot.wecom.client import WeComClient
from tests.conftest import no_sleep
from tests.test_cards import ORG, SECRETARY, assignment, cards_to, publish, texts_to

LONG = {"aibot.mode": "long_connection", "aibot.bot_id": "aibot-zhibu", "aibot.secret": "the-bot-secret"}


def configure(rt, **overrides) -> None:
    rt.config = load_config(environ={}, use_file=False, overrides={**rt.config.values, **overrides})


def chase(wecom, county, wired):
    worker = DeliveryWorker(wired, WeComClient(wired, sleep=no_sleep), threads=2)
    try:
        task = publish(wecom, county)
        assert "已催办" in wecom.say(ORG, f"催办 {task.number}")
        worker.drain()
        return task, worker
    finally:
        worker.pool.shutdown()


def doctor_line(rt) -> str:
    output = CliRunner().invoke(cli, ["doctor"], obj=rt).output
    return next(line for line in output.splitlines() if "卡片 cards" in line)


def test_long_connection_deployments_get_the_text_and_its_commands_work(wecom, county, standin, wired):
    configure(wired, **LONG)
    task, _ = chase(wecom, county, wired)
    assert cards_to(standin, SECRETARY) == []
    [text] = [t for t in texts_to(standin, SECRETARY) if "冬季走访困难党员" in t]
    for command in (f"收到 {task.number}", f"完成 {task.number} 说明", f"延期 {task.number} 7天 原因"):
        assert command in text
    assert "已收到" in wecom.say(SECRETARY, f"收到 {task.number}")
    assert assignment(county, task).acknowledged_at == county.clock.now()
    line = doctor_line(wired)
    assert "长连接" in line and "/wecom/callback" in line and "文字版" in line and "wecom.cards: true" in line


@pytest.mark.parametrize("overrides, cards", [
    ({}, True),                                             # the app callback configured: cards
    (LONG, False),                                          # an intranet: no card could be clicked
    ({**LONG, "wecom.cards": "true"}, True),                # the operator says the callback is reachable
    ({"wecom.cards": "false"}, False),                      # said outright
    ({"wecom.token": "", "wecom.encoding_aes_key": ""}, False),  # no callback to receive a click
])
def test_cards_go_only_where_a_click_can_come_back(wecom, county, standin, wired, overrides, cards):
    configure(wired, **overrides)
    assert app_cards(wired.config)[0] is cards
    chase(wecom, county, wired)
    assert bool(cards_to(standin, SECRETARY)) is cards
    assert any("冬季走访困难党员" in t for t in texts_to(standin, SECRETARY)) is not cards


def test_cards_on_without_a_callback_is_a_doctor_warning(wired):
    configure(wired, **{"wecom.cards": "true", "wecom.token": ""})
    line = doctor_line(wired)
    assert line.startswith("[警告 WARN]") and "按钮将无效" in line


def test_plain_text_users_all_gives_everyone_text(wecom, county, standin, wired):
    configure(wired, **{"wecom.plain_text_users": "all"})
    task, worker = chase(wecom, county, wired)
    assert cards_to(standin, SECRETARY) == []
    [text] = [r["body"] for r in standin.received("message/send") if r["to"] == SECRETARY]
    assert text["msgtype"] == "text" and f"收到 {task.number}" in text["text"]["content"]
    assert "已提交延期申请" in wecom.say(SECRETARY, f"延期 {task.number} 7天 在外地")
    worker = DeliveryWorker(wired, WeComClient(wired, sleep=no_sleep), threads=2)
    try:
        worker.drain()
    finally:
        worker.pool.shutdown()
    assert cards_to(standin, ORG) == []  # the staff's 同意 / 不同意 as text too
    asks = [r["body"] for r in standin.received("message/send") if r["to"] == ORG and "延期" in str(r["body"])]
    assert asks and all(b["msgtype"] == "text" for b in asks)
