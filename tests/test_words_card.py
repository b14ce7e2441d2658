"""Own words meet one tap (issues 13 and 18): where the app can show the
sender a card, a proposal comes as a button card 确认 / 取消 — checked by
the WeCom stand-in as WeCom checks cards — and its buttons act exactly as
是 / 不是, through real encrypted app callbacks (Tencent's crypto as the
peer); the card then says 已确认 / 已取消 / 已过期. People who read the app
through the WeChat plugin, and the smart robot's chats, keep the text."""
import itertools

import pytest
from sqlalchemy import select

from bot.config import load_config
from bot.web import create_app
from bot.wecom.standin import card_problem
from storage.models import Proposal, Report
from tests.test_cards import cards_to, texts_to, updates_to
from tests.wecom_peer import WeComPeer, card_event_xml

SECRETARY, MEMBER, OTHER_SECRETARY = "u700041", "u700046", "u700127"  # ZB0004 书记, 党员; ZB0007 书记
SAID = "第一项完成了 没有发现软弱涣散的情况"
_times = itertools.count(1_700_002_000, 7)


def reports(county) -> list[Report]:
    with county.sessions() as s:
        return s.scalars(select(Report)).all()


def proposal_card(wecom, standin, worker, user=SECRETARY, said=SAID) -> dict:
    """`user` writes in own words: no passive reply, one card WeCom accepts."""
    assert wecom.say(user, said) is None  # the card is the answer
    worker.drain()
    [card] = cards_to(standin, user)
    return card


def press(wecom, standin, worker, user, card, text, key=None) -> str:
    """`user` presses `text` on `card` (or sends `key` instead of its key):
    the one text answer they are sent for it."""
    before = len(texts_to(standin, user))
    button = next(b for b in card["button_list"] if b["text"] == text)
    response = wecom.post(card_event_xml(user, key or button["key"], card["task_id"],
                                         standin.click(card["task_id"]), next(_times)))
    assert response.status_code == 200 and response.data == b""  # a click is answered by a message
    worker.drain()
    [answer] = texts_to(standin, user)[before:]
    return answer


def test_a_proposal_is_a_card_wecom_accepts_and_confirm_records_it_once(wecom, county, standin, worker):
    card = proposal_card(wecom, standin, worker)
    assert card_problem(card) is None and card["card_type"] == "button_interaction"
    assert [b["text"] for b in card["button_list"]] == ["确认", "取消"]
    assert card["main_title"]["title"].startswith("请确认：完成第1项「排查软弱涣散基层党组织」")
    assert card["sub_title_text"].startswith("我理解为：完成第1项「排查软弱涣散基层党组织」，说明“没有发现软弱涣散的情况”。")
    assert "回复“是”确认" in card["sub_title_text"]
    keys = [b["key"] for b in card["button_list"]]
    with county.sessions() as s:  # the buttons carry the proposal's random key, not its id
        proposal = s.scalar(select(Proposal))
    assert all(key.endswith(":" + proposal.card_key) and str(proposal.id) not in key.split(":")[0] for key in keys)
    assert texts_to(standin, SECRETARY) == [] and reports(county) == []  # nothing done on the card alone

    assert "已记录：第1项" in press(wecom, standin, worker, SECRETARY, card, "确认")
    [report] = reports(county)
    assert report.note == "没有发现软弱涣散的情况"
    assert "已经处理过了" in press(wecom, standin, worker, SECRETARY, card, "确认")  # a double click
    assert len(reports(county)) == 1
    assert [u["button"] for u in updates_to(standin, SECRETARY)] == [{"replace_name": "已确认"}] * 2
    assert "已完成 1/7 项" in wecom.say(SECRETARY, "进度")


def test_cancel_records_nothing_and_the_card_says_so(wecom, county, standin, worker):
    card = proposal_card(wecom, standin, worker)
    assert "已取消，未记录" in press(wecom, standin, worker, SECRETARY, card, "取消")
    assert "已经处理过了" in press(wecom, standin, worker, SECRETARY, card, "确认")  # too late to change one's mind
    assert reports(county) == []
    assert updates_to(standin, SECRETARY)[0]["button"] == {"replace_name": "已取消"}
    assert "现在没有需要确认的事项" in wecom.say(SECRETARY, "是")


def test_a_forged_key_or_someone_elses_click_does_nothing(wecom, county, standin, worker):
    card = proposal_card(wecom, standin, worker)
    key = card["button_list"][0]["key"]
    with county.sessions() as s:
        proposal = s.scalar(select(Proposal))
    for user, forged in ((SECRETARY, "pyes:notAKeyWeEverIssued"), (SECRETARY, f"pyes:{proposal.id}"),
                         (SECRETARY, "pyes:"), (MEMBER, key), (OTHER_SECRETARY, key)):
        assert "按钮已失效" in press(wecom, standin, worker, user, card, "确认", key=forged), (user, forged)
    assert reports(county) == [] and updates_to(standin, SECRETARY) == []
    # none of them touched the owner's proposal: it is still theirs to confirm
    assert "已记录：第1项" in press(wecom, standin, worker, SECRETARY, card, "确认")
    assert len(reports(county)) == 1


def test_a_click_after_ten_minutes_does_nothing_and_the_card_says_expired(wecom, county, standin, worker):
    card = proposal_card(wecom, standin, worker)
    county.clock.advance(minutes=10, seconds=1)
    assert "已作废" in press(wecom, standin, worker, SECRETARY, card, "确认")
    assert reports(county) == []
    assert updates_to(standin, SECRETARY)[0]["button"] == {"replace_name": "已过期"}


def test_a_new_message_replaces_the_card_s_proposal(wecom, county, standin, worker):
    card = proposal_card(wecom, standin, worker)
    assert "任务：" in wecom.say(SECRETARY, "任务")  # an exact command in between
    assert "已作废" in press(wecom, standin, worker, SECRETARY, card, "确认")
    assert reports(county) == [] and updates_to(standin, SECRETARY)[0]["button"] == {"replace_name": "已过期"}


def test_typing_yes_still_works_while_the_card_is_out(wecom, county, standin, worker):
    card = proposal_card(wecom, standin, worker)
    assert "已记录：第1项" in wecom.say(SECRETARY, "是")
    assert "已经处理过了" in press(wecom, standin, worker, SECRETARY, card, "确认")
    assert len(reports(county)) == 1
    assert updates_to(standin, SECRETARY)[0]["button"] == {"replace_name": "已确认"}


def test_a_wecom_retry_of_the_message_sends_no_second_card(wecom, county, standin, worker):
    from tests.wecom_peer import text_xml
    message = text_xml(SECRETARY, SAID)
    assert wecom.post(message).data == b""
    assert wecom.post(message).data == b""  # WeCom re-delivers: the card is already on its way
    worker.drain()
    assert len(cards_to(standin, SECRETARY)) == 1
    with county.sessions() as s:
        assert len(s.scalars(select(Proposal)).all()) == 1


@pytest.mark.parametrize("plain", [SECRETARY, "all"])
def test_plain_text_users_get_the_text_and_yes_works(wired, county, standin, worker, plain):
    wired.config = load_config(environ={}, use_file=False,
                               overrides={**wired.config.values, "wecom.plain_text_users": plain})
    wecom = WeComPeer(create_app(runtime=wired).test_client(), county.clock)
    reply = wecom.say(SECRETARY, SAID)
    assert reply.startswith("我理解为：完成第1项") and "回复“是”确认" in reply
    worker.drain()
    assert cards_to(standin, SECRETARY) == []
    assert "已记录：第1项" in wecom.say(SECRETARY, "是")
    assert len(reports(county)) == 1


def test_without_the_app_channel_a_proposal_is_text(county, wired, standin):
    wired.config = load_config(environ={}, use_file=False, overrides={**wired.config.values, "wecom.secret": ""})
    wecom = WeComPeer(create_app(runtime=wired).test_client(), county.clock)
    assert wecom.say(SECRETARY, SAID).startswith("我理解为：")


def test_the_smart_robot_keeps_the_text_proposal(app, county, worker, standin):
    from tests.wecom_peer import AibotPeer
    peer = AibotPeer(app.test_client(), county.clock)
    reply = peer.say(SECRETARY, SAID)
    assert reply["stream"]["content"].startswith("我理解为：完成第1项")
    worker.drain()
    assert cards_to(standin, SECRETARY) == []
