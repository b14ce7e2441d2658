"""@-mentions of the smart robot in a branch group: same commands, same
rules, JSON crypto with an empty receive id; the answer is a finished stream."""
from sqlalchemy import func, select

from bot.wecom.crypto import MessageCrypto, signature
from storage.models import Report
from tests.wecom_peer import AIBOT_AES_KEY, AIBOT_TOKEN, AibotPeer


def test_mention_in_group_reports_and_answers_in_the_group(app, county):
    peer = AibotPeer(app.test_client(), county.clock)
    reply = peer.say("u700001", "@支部通 完成 1 已排查完毕")
    assert reply["msgtype"] == "stream" and reply["stream"]["finish"] is True
    assert "已记录：第1项" in reply["stream"]["content"]
    with county.sessions() as s:
        assert s.scalar(select(Report.note)) == "已排查完毕"


def test_role_rules_apply_in_groups_too(app, county):
    peer = AibotPeer(app.test_client(), county.clock)
    assert "不能为支部上报" in peer.say("u700002", "@支部通 完成 1")["stream"]["content"]
    with county.sessions() as s:
        assert s.scalar(select(func.count(Report.id))) == 0


def test_aibot_url_verification_and_bad_signature(app, county):
    client = app.test_client()
    echostr = MessageCrypto(AIBOT_TOKEN, AIBOT_AES_KEY, "").encrypt("echo-42")
    ts = str(county.clock.epoch())
    ok = client.get("/wecom/aibot", query_string={"msg_signature": signature(AIBOT_TOKEN, ts, "n", echostr),
                                                 "timestamp": ts, "nonce": "n", "echostr": echostr})
    assert ok.data == b"echo-42"
    bad = client.post("/wecom/aibot", data='{"encrypt": "abc"}', query_string={
        "msg_signature": "0" * 40, "timestamp": ts, "nonce": "n"})
    assert bad.status_code == 403
    assert client.post("/wecom/aibot", data="not json", query_string={
        "msg_signature": "0" * 40, "timestamp": ts, "nonce": "n"}).status_code == 400
