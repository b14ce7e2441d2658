"""Issue 17, "Done means": property-based tests of the callback reader.
Any bytes as body and any query give a 2xx or 4xx — never a 500 or an
exception — and nothing is written unless the signature is valid.

(The smart robot's reader after decryption, `aibot_message`, is being
rewritten under row 14; its endpoint is fuzzed here up to the signature.)"""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from bot.wecom.crypto import MessageCrypto, signature
from storage.models import Base
from tests.wecom_peer import AES_KEY, CORP_ID, TOKEN

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
XML_PIECES = [b"<xml>", b"</xml>", b"<Encrypt>", b"</Encrypt>", b"<ToUserName>", b"</ToUserName>",
              b"<![CDATA[", b"]]>", b"<!DOCTYPE x [<!ENTITY e 'x'>]>", b"&e;", b"&lt;", b"<a/>", b"<a>",
              b"</a>", b"\x00", b"\xff\xfe", b"<?xml version='1.0' encoding='gbk'?>", b"<!-- -->",
              b"wwzhibu0000000001", b"abc=", b"\xe7\xad\xbe\xe5\x88\xb0"]
xml_ish = st.lists(st.one_of(st.sampled_from(XML_PIECES), st.binary(max_size=12)), max_size=40).map(b"".join)
json_ish = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                            st.sampled_from(["encrypt", "msgtype", "text", "from"]) | st.text(max_size=5),
                            inner, max_size=4), max_leaves=12).map(lambda v: json.dumps(v).encode())
bodies = st.one_of(st.binary(max_size=2048), xml_ish, json_ish)
text_values = st.text(max_size=60)


def table_rows(rt) -> int:
    with rt.sessions() as s:
        return sum(s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables)


@st.composite
def queries(draw, now: int) -> dict[str, str] | bytes:
    """Anything, or a query that passes the cheap checks (fresh, hex signature)
    so the body's reader is reached; or raw bytes as the query string."""
    kind = draw(st.sampled_from(["plausible", "anything", "raw"]))
    if kind == "raw":
        return draw(st.binary(max_size=200))
    query = draw(st.dictionaries(st.sampled_from(["msg_signature", "timestamp", "nonce", "echostr"]) | text_values,
                                 text_values, max_size=5))
    if kind == "plausible":
        query.update(timestamp=str(now + draw(st.integers(-400, 400))), nonce=draw(st.text(min_size=1, max_size=70)),
                     msg_signature=draw(st.text("0123456789abcdef", min_size=40, max_size=40)))
    return query


@pytest.mark.parametrize("path", ["/wecom/callback", "/wecom/aibot"])
def test_any_request_is_answered_2xx_or_4xx_and_writes_nothing_unsigned(app, county, path):
    client, now, before = app.test_client(), county.clock.epoch(), table_rows(county)

    @FUZZ
    @given(method=st.sampled_from(["GET", "POST", "PUT"]), query=queries(now), body=bodies)
    def check(method, query, body):
        if isinstance(query, bytes):  # as a WSGI server passes it: the raw bytes, latin-1 (PEP 3333)
            response = client.open(path, method=method, data=body,
                                   environ_overrides={"QUERY_STRING": query.decode("latin-1")})
        else:
            response = client.open(path, method=method, query_string=query, data=body)
        assert response.status_code < 500 and response.status_code not in range(300, 400)
        assert table_rows(county) == before  # no valid signature: nothing at all was written

    check()


def test_any_authentic_plaintext_is_answered_2xx_or_4xx(app, county):
    """Validly signed and encrypted, but the plaintext inside is anything:
    past the signature, the message reader must still refuse, never crash."""
    client, crypto, now = app.test_client(), MessageCrypto(TOKEN, AES_KEY, CORP_ID), county.clock.epoch()
    plaintexts = st.one_of(st.text(max_size=300), xml_ish.map(lambda b: b.decode("utf-8", "replace")),
                           st.builds(lambda kind, user, content: (
                               f"<xml><FromUserName>{user}</FromUserName><MsgType>{kind}</MsgType>"
                               f"<Content><![CDATA[{content}]]></Content><CreateTime>1</CreateTime></xml>"),
                               st.sampled_from(["text", "event", "location", "image", ""]),
                               st.sampled_from(["u700001", "s7001", "nobody", ""]),
                               st.text(max_size=80).filter(lambda t: "]]>" not in t)))

    @FUZZ
    @given(plaintext=plaintexts, method=st.sampled_from(["GET", "POST"]))
    def check(plaintext, method):
        encrypt, ts, nonce = crypto.encrypt(plaintext), str(now), "fuzz"
        query = {"msg_signature": signature(TOKEN, ts, nonce, encrypt), "timestamp": ts, "nonce": nonce}
        if method == "GET":
            response = client.get("/wecom/callback", query_string={**query, "echostr": encrypt})
            assert response.status_code == 200 and response.get_data(as_text=True) == plaintext
            return
        body = f"<xml><ToUserName>{CORP_ID}</ToUserName><Encrypt>{encrypt}</Encrypt></xml>"
        response = client.post("/wecom/callback", query_string=query, data=body)
        assert response.status_code in (200, 400), (response.status_code, plaintext)

    check()
