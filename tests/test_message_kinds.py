"""Every message kind WeCom really sends (WECOM.md §1, §5, §7), through real
encrypted callbacks (Tencent's crypto as the peer), and slow answers: a
reply not ready in time goes by message/send or the response_url."""
import hashlib
import json
import logging
import sqlite3
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.wecom.inbound import BadMessage, aibot_message, strip_mentions
from bot.wecom.media import fetch_pending
from storage.models import CheckIn, Delivery, Evidence, InboundMessage, Report
from tests.wecom_peer import AIBOT_AES_KEY, AibotPeer, event_xml, location_xml, media_xml, text_xml

SECRETARY = "u700001"       # 吕丽刚, 书记, ZB0001
PLAIN_MEMBER = "u700002"    # 邱国, 党员, ZB0001
PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # a JPEG's first bytes, then anything


@pytest.fixture
def peer(app, county):
    return AibotPeer(app.test_client(), county.clock)


def content(reply) -> str:
    return reply["stream"]["content"] if reply["msgtype"] == "stream" else reply["text"]["content"]


def reports(county):
    with county.sessions() as s:
        return s.scalars(select(Report).order_by(Report.id)).all()


def evidence(county):
    with county.sessions() as s:
        return s.scalars(select(Evidence).order_by(Evidence.id)).all()


def saved_files(county, worker):
    fetch_pending(county, worker.client)  # what it could not fetch stays, with its error, in the rows read below
    return [(e.file_name, Path(e.path).read_bytes() if e.path else None, e.last_error) for e in evidence(county)]


# ---- smart robot -------------------------------------------------------------------------

def test_mixed_text_is_the_command_and_its_images_the_evidence(peer, county, standin, worker):
    """"@支部通 完成 1" sent with a photo arrives as `mixed`: the report is made
    and the photo, downloaded and decrypted with the bot's key, is its evidence."""
    url = standin.add_encrypted_media(PHOTO, AIBOT_AES_KEY)
    items = [{"msgtype": "text", "text": {"content": "@支部通 完成 1 已排查，"}},
             {"msgtype": "image", "image": {"url": url}},
             {"msgtype": "text", "text": {"content": "见照片"}}]
    reply = content(peer.open(peer.post(peer.message(SECRETARY, "mixed", mixed={"msg_item": items}))))
    assert "已记录：第1项" in reply and "已将照片作为第1项" in reply
    [report] = reports(county)
    assert report.note == "已排查， 见照片"
    [(name, data, error)] = saved_files(county, worker)
    assert data == PHOTO and error is None and name.endswith(".jpg")
    [row] = evidence(county)
    assert row.sha256 == hashlib.sha256(PHOTO).hexdigest() and row.url == url and row.kind == "image"


def test_an_image_or_file_in_single_chat_is_evidence_of_the_last_report(peer, county, standin, worker):
    peer.say(SECRETARY, "完成 1 已排查")
    table = b"%PDF-1.7 " + b"x" * 5000
    photo_url = standin.add_encrypted_media(PHOTO, AIBOT_AES_KEY)
    file_url = standin.add_encrypted_media(table, AIBOT_AES_KEY)
    first = peer.open(peer.post(peer.message(SECRETARY, "image", chat_id=None, image={"url": photo_url})))
    second = peer.open(peer.post(peer.message(SECRETARY, "file", chat_id=None, file={"url": file_url})))
    assert "已将照片作为第1项" in content(first) and "已将文件作为第1项" in content(second)
    files = saved_files(county, worker)
    assert [data for _, data, _ in files] == [PHOTO, table]
    assert files[1][0].endswith(".pdf")


def test_media_that_does_not_decrypt_is_recorded_not_saved(peer, county, standin, worker):
    peer.say(SECRETARY, "完成 1 已排查")
    url = standin.add_encrypted_media(PHOTO, "A" * 43)  # another key
    peer.post(peer.message(SECRETARY, "image", chat_id=None, image={"url": url}))
    [(_, data, error)] = saved_files(county, worker)
    assert data is None and "解密失败" in error


def test_an_expired_media_url_is_recorded_and_a_proxy_error_tried_again(peer, county, standin, worker):
    peer.say(SECRETARY, "完成 1 已排查")
    url = standin.add_encrypted_media(PHOTO, AIBOT_AES_KEY)
    standin.fail_html(url.split("/cgi-bin/", 1)[1], http_status=502, times=3)  # a round of quick tries
    peer.post(peer.message(SECRETARY, "image", chat_id=None, image={"url": standin.api_base + "_media/gone"}))
    peer.post(peer.message(SECRETARY, "image", chat_id=None, image={"url": url}))
    gone, flaky = saved_files(county, worker)
    assert gone[1] is None and "链接已失效" in gone[2] and "404" in gone[2]
    assert flaky[1] is None and flaky[2] is None  # an HTML error page is no file: next round
    assert saved_files(county, worker)[1][1] == PHOTO


def test_voice_is_a_command_by_its_text(peer, county):
    reply = peer.open(peer.post(peer.message(SECRETARY, "voice", chat_id=None,
                                             voice={"content": "完成1，已排查完毕。"})))
    assert "已记录：第1项" in content(reply)
    assert reports(county)[0].note == "已排查完毕"


def test_a_quoted_photo_is_the_evidence_of_the_command(peer, county, standin, worker):
    url = standin.add_encrypted_media(PHOTO, AIBOT_AES_KEY)
    doc = peer.message(SECRETARY, "text", text={"content": "@支部通 完成 1 照片在上面"},
                       quote={"msgtype": "image", "image": {"url": url}})
    assert "已将照片作为第1项" in content(peer.open(peer.post(doc)))
    assert [data for _, data, _ in saved_files(county, worker)] == [PHOTO]
    quoted = peer.message(SECRETARY, "text", text={"content": "@支部通 进度"},
                          quote={"msgtype": "text", "text": {"content": "第1项截止11月27日"}})
    peer.post(quoted)
    with county.sessions() as s:
        assert "〔引用〕第1项截止11月27日" in s.scalars(select(InboundMessage.content)).all()[-1]


def test_photos_with_a_command_that_is_not_a_report_are_not_lost_silently(peer, county, standin):
    url = standin.add_encrypted_media(PHOTO, AIBOT_AES_KEY)
    items = [{"msgtype": "text", "text": {"content": "@支部通 任务"}}, {"msgtype": "image", "image": {"url": url}}]
    reply = content(peer.open(peer.post(peer.message(SECRETARY, "mixed", mixed={"msg_item": items}))))
    assert "月任务：" in reply and "上报：完成 N 说明" in reply  # the task list itself, not a refusal
    assert "未保存" in reply and evidence(county) == []


@pytest.mark.parametrize("text, note", [
    ("@支部通 完成 1 已排查", "已排查"),
    ("完成 1 已排查 @支部通", "已排查"),          # trailing
    ("完成 1 已排查@支部通", "已排查"),           # no space before it
    ("@张三\u2005@支部通 完成 1 已排查", "已排查"),  # WeChat-style mention of a person first
    ("@Zhibu Tong 完成 1 已排查，到会9人", "已排查，到会9人"),  # a name with a space
    ("完成 1 已排查 @Zhibu Tong", "已排查"),
    ("完成 1 联系人邮箱 a@b.cn", "联系人邮箱 a@b.cn"),  # not a mention
])
def test_mentions_are_removed_wherever_they_are(app, county, text, note):
    from bot.config import load_config
    county.config = load_config(environ={}, use_file=False, overrides={
        **county.config.values, "aibot.name": "支部通, Zhibu Tong"})
    peer = AibotPeer(app.test_client(), county.clock)
    assert "已记录：第1项" in content(peer.say(SECRETARY, text))
    assert reports(county)[0].note == note


def test_enter_chat_is_greeted_once_a_day_and_card_events_are_recorded(peer, county):
    enter = {"event": {"eventtype": "enter_chat"}, "create_time": 1_700_000_000}
    greeting = peer.open(peer.post(peer.message(SECRETARY, "event", chat_id=None, **enter)))
    assert greeting["msgtype"] == "text" and "吕丽刚" in greeting["text"]["content"]
    assert peer.open(peer.post(peer.message(SECRETARY, "event", chat_id=None, **enter))) is None  # same day
    county.clock.advance(days=1)
    assert peer.open(peer.post(peer.message(SECRETARY, "event", chat_id=None, **enter)))["msgtype"] == "text"
    card = {"event": {"eventtype": "template_card_event",
                      "template_card_event": {"card_type": "button_interaction", "event_key": "ack", "task_id": "t1"}}}
    assert peer.open(peer.post(peer.message(SECRETARY, "event", **card))) is None
    with county.sessions() as s:
        kinds = s.execute(select(InboundMessage.msg_type, InboundMessage.outcome)).all()
    # not a key of ours: refused (handlers/commands/cards.py), answered by a message, nothing recorded
    assert ("event", "refused: card") in kinds and len(kinds) == 4


def test_a_stream_refresh_is_answered_with_nothing(peer):
    assert peer.open(peer.post(peer.message(SECRETARY, "stream", stream={"id": "s1"}))) is None


# ---- malformed and hostile smart-robot messages (issue 17, row 14) -----------------------

def test_a_nul_in_a_note_is_refused_like_xml_does(peer, county, wecom):
    response = peer.post(peer.message(SECRETARY, "text", text={"content": "@支部通 完成 1 已\x00排查"}))
    assert response.status_code == 400 and reports(county) == []
    body, query = wecom.sealed(text_xml(SECRETARY, "完成 1 已\x00排查"))  # the XML channel: refused too
    assert wecom.client.post("/wecom/callback", query_string=query, data=body).status_code == 400


def test_a_lone_surrogate_is_refused_cleanly_and_logged_so_retries_do_not_fail(peer, county, caplog):
    caplog.set_level(logging.WARNING)
    doc = peer.message(SECRETARY, "text", text={"content": "PLACEHOLDER"})
    raw = json.dumps(doc, ensure_ascii=True).replace("PLACEHOLDER", "完成 1 \\ud83d 已排查")
    first = peer.open(peer.post(raw))
    assert "无法识别的字符" in content(first) and "lone surrogate" in caplog.text
    again = peer.post(raw)  # WeCom retries: the same answer, no error
    assert again.status_code == 200 and content(peer.open(again)) == content(first)
    assert reports(county) == []
    with county.sessions() as s:
        [(kind, outcome)] = s.execute(select(InboundMessage.msg_type, InboundMessage.outcome)).all()
    assert (kind, outcome) == ("unreadable", "unreadable")


@pytest.mark.parametrize("change", [
    lambda d: d.update(text="完成 1"),                       # text as a string, not an object
    lambda d: d.update(text={"content": 1}),
    lambda d: d.update({"from": {"userid": 700001}}),
    lambda d: d.update({"from": "u700001"}),
    lambda d: d.update(msgtype="mixed", mixed={"msg_item": "x"}),
    lambda d: d.update(msgtype="mixed", mixed={"msg_item": [{"msgtype": "image", "image": {"url": 5}}]}),
    lambda d: d.update(msgtype="image", image={"url": "file:///etc/passwd"}),
    lambda d: d.update(msgtype="event", event="enter_chat"),
    lambda d: d.update(quote=[1]),
    lambda d: d.update(msgid="m\x00"),                     # a NUL where the database keys it
    lambda d: d.update(msgid="m\udc80"),
    lambda d: d.update(response_url="http://x/\x00"),
    lambda d: d.update(create_time={"t": 1}),
])
def test_wrong_types_are_a_400_never_a_500(peer, county, change):
    doc = peer.message(SECRETARY, "text", text={"content": "完成 1"})
    change(doc)
    assert peer.post(doc).status_code == 400 and reports(county) == []
    assert peer.post("[1, 2]").status_code == 400 and peer.post("not json").status_code == 400


def test_the_reader_never_raises_anything_but_badmessage():
    for plaintext in ['{"from": {"userid": "u"}, "msgtype": "text", "text": {"content": "\\udc80"}}',
                      '{"from": {"userid": "u"}, "msgtype": "voice"}', '{"from": {}}', "null", '"s"',
                      '{"from": {"userid": "u"}, "msgtype": "mixed", "mixed": {"msg_item": [null]}}']:
        try:
            aibot_message(plaintext)
        except BadMessage:
            pass


def test_strip_mentions_keeps_what_the_user_wrote():
    assert strip_mentions("完成 2  到会 9 人  @支部通", ("支部通",)) == "完成 2  到会 9 人"
    assert strip_mentions("@支部通", ("支部通",)) == ""
    assert strip_mentions("@支部通知 大家看看", ()) == "大家看看"


# ---- app callback ----------------------------------------------------------------------

def test_app_image_voice_and_file_are_evidence(wecom, county, standin, worker):
    wecom.say(SECRETARY, "完成 1 已排查")
    for kind, media_id in (("image", "M_img"), ("voice", "M_voice")):
        standin.add_media(media_id, kind.encode() * 10, f"{kind}.bin")
        reply = wecom.open_reply(wecom.post(media_xml(SECRETARY, kind, media_id)))["Content"]
        assert "作为第1项" in reply
    file_xml = media_xml(SECRETARY, "file", "M_file").replace("</MediaId>", "</MediaId><Title>排查表.xlsx</Title>")
    standin.add_media("M_file", b"PK\x03\x04 sheet", "排查表.xlsx")
    assert "已将文件作为第1项" in wecom.open_reply(wecom.post(file_xml))["Content"]
    files = saved_files(county, worker)
    assert [name for name, _, _ in files] == ["image.bin", "voice.bin", "排查表.xlsx"]


def test_app_location_is_a_checkin(wecom, county):
    reply = wecom.open_reply(wecom.post(location_xml("u700029", 23.02, 113.75, "东莞")))["Content"]
    assert "签到" in reply
    with county.sessions() as s:
        assert s.scalar(select(func.count(CheckIn.id))) == 1


def test_enter_agent_greets_once_a_day(wecom, county):
    first = wecom.post(event_xml(SECRETARY, "enter_agent", 1_700_000_100))
    assert "吕丽刚" in wecom.open_reply(first)["Content"]
    assert wecom.post(event_xml(SECRETARY, "enter_agent", 1_700_000_200)).data == b""
    county.clock.advance(days=1)
    assert "支部通" in wecom.open_reply(wecom.post(event_xml(SECRETARY, "enter_agent", 1_700_090_000)))["Content"]
    assert wecom.post(event_xml("nobody", "enter_agent", 1_700_000_300)).data == b""  # not on the roster


def test_app_card_clicks_are_recorded_for_now(wecom, county):
    click = event_xml(SECRETARY, "template_card_event").replace(
        "<EventKey></EventKey>", "<EventKey>ack</EventKey><TaskId>t1</TaskId><CardType>button_interaction</CardType>")
    assert wecom.post(click).data == b""
    with county.sessions() as s:
        assert s.scalar(select(InboundMessage.content)) == "ack"


# ---- slow answers ----------------------------------------------------------------------

class HeldDatabase:
    """Another connection holds SQLite's write lock for `seconds`: the
    handler's first write waits for it, as it would behind a slow report."""

    def __init__(self, county, seconds: float):
        path = county.config["database.url"].split("///", 1)[1]
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.seconds = seconds

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        self.timer = threading.Timer(self.seconds, lambda: self.conn.execute("COMMIT"))
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.join()
        self.conn.close()


def wait_for(check, seconds=10.0):
    give_up = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < give_up, "timed out"
        time.sleep(0.05)


def replies_queued(county):
    with county.sessions() as s:
        return s.scalars(select(Delivery).where(Delivery.purpose == "reply")).all()


@pytest.fixture
def quick(monkeypatch, county):
    from bot.config import load_config
    from bot.web import callback
    county.config = load_config(environ={}, use_file=False,
                                overrides={**county.config.values, "server.answer_within": 0.3})
    monkeypatch.setattr(callback, "COMMIT_GRACE", 0.1)


def test_a_slow_app_answer_goes_by_message_send(wecom, county, standin, worker, quick):
    message = text_xml(SECRETARY, "完成 1 已排查", msg_id=8_100_000_001)
    with HeldDatabase(county, 1.0):
        started = time.monotonic()
        response = wecom.post(message)
        answered_in = time.monotonic() - started
    assert response.status_code == 200 and response.data == b"" and answered_in < 0.9
    wait_for(lambda: replies_queued(county))
    retry = wecom.post(message)  # WeCom's retry: the answer is on its way, not given twice
    assert retry.status_code == 200 and retry.data == b""
    worker.drain()
    [sent] = standin.received("message/send")
    assert sent["to"] == SECRETARY and "已记录：第1项" in sent["body"]["markdown"]["content"]
    assert len(reports(county)) == 1 and len(replies_queued(county)) == 1


def test_a_slow_smart_robot_answer_goes_by_its_response_url(peer, county, standin, worker, quick):
    doc = peer.message(SECRETARY, "text", text={"content": "@支部通 完成 1 已排查"},
                       response_url=standin.response_url())
    with HeldDatabase(county, 1.0):
        assert peer.open(peer.post(doc)) is None
    wait_for(lambda: replies_queued(county))
    worker.drain()
    [sent] = standin.received("aibot/response")
    assert sent["body"]["msgtype"] == "markdown" and "已记录：第1项" in sent["body"]["markdown"]["content"]
    assert standin.received("message/send") == []
    [row] = replies_queued(county)
    assert row.state == "sent" and row.channel == "aibot_response"
    with county.sessions() as s:  # a reply url is no address of anyone's
        from storage.models import Address
        assert s.scalar(select(func.count(Address.id)).where(Address.kind == "aibot_response")) == 0


def test_a_late_answer_goes_in_quiet_hours_too(wecom, county, standin, worker, quick):
    county.clock.at = datetime(2026, 11, 16, 22, 40)
    with HeldDatabase(county, 0.8):
        assert wecom.post(text_xml(SECRETARY, "任务")).data == b""
    wait_for(lambda: replies_queued(county))
    worker.drain()
    assert len(standin.received("message/send")) == 1


def test_a_fast_answer_is_passive_and_queues_nothing(wecom, county, standin):
    assert "已记录" in wecom.say(SECRETARY, "完成 1 已排查")
    assert replies_queued(county) == []
    with county.sessions() as s:
        assert "已记录" in s.scalar(select(InboundMessage.reply))
