"""Promise: a callback with a bad signature, a stale timestamp, a wrong corp
id or malformed/hostile XML is refused and changes nothing."""
import pytest
from sqlalchemy import func, select

from bot.wecom.crypto import MessageCrypto, signature
from storage.models import CheckIn, InboundMessage
from tests.wecom_peer import AES_KEY, CORP_ID, TOKEN, WeComPeer, text_xml

SECRETARY = "u700001"  # 吕丽刚, 书记 of ZB0001


def counts(county):
    with county.sessions() as s:
        return s.scalar(select(func.count(InboundMessage.id))), s.scalar(select(func.count(CheckIn.id)))


def test_url_verification_answers_the_bare_echostr(wecom, county):
    echostr = MessageCrypto(TOKEN, AES_KEY, CORP_ID).encrypt("8372645917364")
    ts = str(county.clock.epoch())
    response = wecom.client.get("/wecom/callback", query_string={
        "msg_signature": signature(TOKEN, ts, "abc", echostr), "timestamp": ts,
        "nonce": "abc", "echostr": echostr})
    assert response.status_code == 200 and response.data == b"8372645917364"


def test_authentic_callback_is_accepted(wecom, county):
    assert "签到成功" in wecom.say(SECRETARY, "签到")
    assert counts(county) == (1, 1)


def test_bad_signature_is_refused(wecom, county):
    body, query = wecom.sealed(text_xml(SECRETARY, "签到"))
    query["msg_signature"] = "f" * 40
    response = wecom.client.post("/wecom/callback", query_string=query, data=body)
    assert response.status_code == 403 and counts(county) == (0, 0)


@pytest.mark.parametrize("skew", [-301, 301, 3600])
def test_stale_timestamp_is_refused(wecom, county, skew):
    response = wecom.post(text_xml(SECRETARY, "签到"), timestamp=county.clock.epoch() + skew)
    assert response.status_code == 403 and counts(county) == (0, 0)


def test_other_corp_id_is_refused(app, county):
    foreign = WeComPeer(app.test_client(), county.clock, receive_id="wwnotours")
    response = foreign.post(text_xml(SECRETARY, "签到"))
    assert response.status_code == 403 and counts(county) == (0, 0)


HOSTILE = [
    b"this is not xml",
    b"<xml><Encrypt>",
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    b"<xml><Encrypt>&lol2;</Encrypt></xml>",
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b"<xml><Encrypt>&xxe;</Encrypt></xml>",
    b"<notxml><Encrypt>abc</Encrypt></notxml>",
    b"<xml><ToUserName>x</ToUserName></xml>",
]


@pytest.mark.parametrize("body", HOSTILE)
def test_malformed_and_hostile_xml_is_refused(wecom, county, body):
    ts = str(county.clock.epoch())
    response = wecom.client.post("/wecom/callback", data=body, query_string={
        "msg_signature": signature(TOKEN, ts, "n", "abc"), "timestamp": ts, "nonce": "n"})
    assert response.status_code == 400 and counts(county) == (0, 0)


def test_hostile_xml_inside_a_validly_encrypted_message_is_refused(wecom, county):
    inner = ('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><xml><FromUserName>u700001</FromUserName>'
             "<MsgType>text</MsgType><Content>&a;</Content><MsgId>1</MsgId></xml>")
    assert wecom.post(inner).status_code == 400 and counts(county) == (0, 0)


def test_body_over_one_megabyte_is_refused(wecom, county):
    response = wecom.client.post("/wecom/callback", data=b"<xml>" + b"a" * (1024 * 1024 + 1) + b"</xml>",
                                 query_string={"timestamp": "1", "nonce": "n", "msg_signature": "x"})
    assert response.status_code == 413 and counts(county) == (0, 0)


def test_unconfigured_callback_says_so(county):
    from bot.web import create_app
    response = create_app(runtime=county).test_client().post("/wecom/callback", data=b"<xml/>")
    assert response.status_code == 503
