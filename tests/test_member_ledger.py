"""The ledger's member part (党员简历, issue 12): a crafted month through real
encrypted callbacks, exported with `python -m bot ledger`, read back with
openpyxl — every record of each member with its received time and marks
(补记录, 代签, 双报到), the figures and points of the period, mobile numbers
masked — and opened by LibreOffice."""
from datetime import date, datetime

from click.testing import CliRunner
from openpyxl import load_workbook

from bot.cli import cli
from handlers.render.ledger import MEMBER_HEADERS, ZERO_POINTS, member_rows
from storage.ledger import build_ledgers
from storage.month import Month
from storage.orgs import active_branches

SECRETARY = "u700041"   # 贺东刚, 书记 of ZB0004
MEMBER = "u700046"      # 杨娜燕, 党员 of ZB0004, phone 15706032141
ABSENTEE = "u700047"    # 孔永秀
MOBILE = "u700048"      # 莫娜建, mobile member (厦门)
SHEET, MEMBERS = "ZB0004 龙泉乡4村党支部", "党员简历 ZB0004"
COMMUNITY_SHEET = "ZB0007 柳林乡7社区党支部"


def craft_month(wecom, county) -> None:
    """16–20 Nov 2026 in ZB0004: a 主题党日 by roll, a 支委会 logged 14 days
    late, a 代签, a member's volunteer hours (for a 双报到 community), study,
    a mobile member's own check-in."""
    assert "已记录主题党日" in wecom.say(SECRETARY, "会议 主题党日 2026-11-13 出席 29/32 缺席 孔永秀、张志兰 请假 廖梅敏 参观红色教育基地")
    assert "已记录支委会" in wecom.say(SECRETARY, "会议 支委会 2026-11-02 出席 4/5 请假 高明静")
    assert "已登记双报到" in wecom.say(MEMBER, "双报到 ZB0007")
    county.clock.advance(days=1, minutes=3)                              # 17 Nov 10:20
    assert "已登记志愿服务 2.5 小时" in wecom.say(MEMBER, "志愿 2.5小时 社区垃圾分类宣传")
    assert "已登记学习" in wecom.say(MEMBER, "学习 党章第二章")
    assert "签到成功" in wecom.say(MOBILE, "签到")
    county.clock.advance(days=1)                                         # 18 Nov 10:20
    assert "已为田伟代签" in wecom.say(SECRETARY, "代签 田伟 电话联系，在杭州务工")


def export(county, tmp_path):
    out = tmp_path / "台账.xlsx"
    result = CliRunner().invoke(cli, ["ledger", "--branch", "ZB0004", "--branch", "ZB0007", "--from", "2026-11",
                                      "--to", "2026-11", "-o", str(out)], obj=county, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def sections(ws) -> dict[str, list[tuple]]:
    """Member name → their rows (基本情况 first, 小计 last)."""
    header, *rows = ws.iter_rows(values_only=True)
    assert header == MEMBER_HEADERS
    found: dict[str, list[tuple]] = {}
    for row in rows:
        found.setdefault(row[0], []).append(row)
    return found


def test_the_member_part_has_every_record_with_its_figures(wecom, county, tmp_path):
    craft_month(wecom, county)
    book = load_workbook(export(county, tmp_path))
    assert book.sheetnames == ["汇总", SHEET, MEMBERS, COMMUNITY_SHEET, "党员简历 ZB0007"]
    people = sections(book[MEMBERS])
    assert len(people) == 32  # every active member, whether or not they typed anything

    yang = people["杨娜燕"]
    assert [r[1] for r in yang] == ["基本情况", "会议", "志愿", "学习", "小计"]
    profile, meeting, volunteer, study, subtotal = yang
    assert profile[2] == "党员，正式党员" and "手机 157****2141" in profile[7]
    assert "双报到社区：柳林乡7社区党支部" in profile[7] and "15706032141" not in str(profile)
    assert meeting[2:8] == ("主题党日", datetime(2026, 11, 13), "出席", datetime(2026, 11, 16, 10, 17), "贺东刚",
                            "参观红色教育基地")
    assert not meeting[9]
    assert volunteer[3:8] == (datetime(2026, 11, 17), "2.5 小时", datetime(2026, 11, 17, 10, 20), "杨娜燕",
                              "社区垃圾分类宣传")
    assert volunteer[9] == "计入双报到社区：柳林乡7社区党支部"
    assert study[4] == "已学习" and study[7] == "党章第二章"
    # 主题党日 2 + volunteer 2 (whole hours) + study 1: from taking part, never from typing
    assert subtotal[2] == "会议 出席 0/0；主题党日 1/1；缺席 0；签到 0 天；志愿 2.5 小时；学习 1 天"
    assert subtotal[4] == "积分 5" and not subtotal[9]

    secretary = people["贺东刚"]  # typed every meeting; earns only for attending them
    assert [r[2] for r in secretary if r[1] == "会议"] == ["支委会", "主题党日"]
    late = next(r for r in secretary if r[2] == "支委会")
    assert late[3] == datetime(2026, 11, 2) and late[5] == datetime(2026, 11, 16, 10, 17)
    assert late[9] == "补记录（会后 14 天登记）"
    assert secretary[-1][2].startswith("会议 出席 1/1；主题党日 1/1") and secretary[-1][4] == "积分 4"

    absent = people["孔永秀"]
    assert [r[4] for r in absent if r[1] == "会议"] == ["缺席"]
    assert absent[-1][4] == "积分 -1" and absent[-1][9] == ZERO_POINTS
    assert [r[4] for r in people["廖梅敏"] if r[1] == "会议"] == ["请假"]
    assert [r[4] for r in people["高明静"] if r[1] == "会议"] == ["请假", "出席"]  # no WeCom, still on the roll

    proxy = next(r for r in people["田伟"] if r[1] == "签到")
    assert proxy[2:8] == ("代签", datetime(2026, 11, 18), "已签到", datetime(2026, 11, 18, 10, 20), "贺东刚",
                          "电话联系，在杭州务工")
    assert proxy[9] == "代签（贺东刚登记）" and "（代签 1）" in people["田伟"][-1][2]
    own = next(r for r in people["莫娜建"] if r[1] == "签到")
    assert own[2] == "签到" and own[6] == "莫娜建" and not own[9]
    assert "流动党员（厦门）" in people["莫娜建"][0][2]

    # The branch's own sheet marks the 代签 too; the community's sheet shows the 双报到 hours.
    marks = {r[6]: r[9] for r in book[SHEET].iter_rows(min_row=2, values_only=True) if r[0] == "签到"}
    assert marks["贺东刚"] == "代签（贺东刚登记）" and not marks["莫娜建"]
    [service] = [r for r in book[COMMUNITY_SHEET].iter_rows(min_row=2, values_only=True) if r[0] == "志愿（双报到）"]
    assert service[2] == "杨娜燕（龙泉乡4村党支部）志愿服务 2.5 小时" and service[5] == datetime(2026, 11, 17, 10, 20)


def test_the_figures_are_those_of_whoami(wecom, county, tmp_path, monkeypatch):
    """The ledger's 小计 and 我的 read the same records the same way; a
    county-wide export (every record of the period read whole) and a
    branch's own (only its members' records) say the same."""
    import storage.ledger
    craft_month(wecom, county)

    def zb4_rows():
        with county.sessions() as s:
            ledgers = build_ledgers(s, active_branches(s), Month(2026, 10), Month(2026, 12), county.clock.today())
        return member_rows(next(lg for lg in ledgers if lg.branch.code == "ZB0004"))
    rows = zb4_rows()
    monkeypatch.setattr(storage.ledger, "SCOPED_BRANCHES", 0)
    assert zb4_rows() == rows
    subtotal = {r[0]: r[4] for r in rows if r[1] == "小计"}
    for user, name in ((MEMBER, "杨娜燕"), (ABSENTEE, "孔永秀"), (SECRETARY, "贺东刚"), (MOBILE, "莫娜建")):
        assert f"积分：{subtotal[name].split()[1]} 分" in wecom.say(user, "我的")


def test_the_member_part_opens_in_libreoffice(wecom, county, tmp_path):
    import csv

    from tests.test_exports_office import convert_all, libreoffice, shown, trimmed
    soffice = libreoffice()
    craft_month(wecom, county)
    out = export(county, tmp_path)
    with county.sessions() as s:
        ledgers = build_ledgers(s, active_branches(s, ["ZB0004"]), Month(2026, 11), Month(2026, 11),
                                county.clock.today())
    sheets = dict(convert_all(soffice, [out], tmp_path / "csv", tmp_path / "lo-profile")[out])
    assert list(sheets) == ["汇总", SHEET, MEMBERS, COMMUNITY_SHEET, "党员简历 ZB0007"]
    with sheets[MEMBERS].open(encoding="utf-8", newline="") as f:
        got = trimmed(list(csv.reader(f)))
    assert got == trimmed([[shown(v) for v in row] for row in [MEMBER_HEADERS, *member_rows(ledgers[0])]])
    assert any(r[1] == "小计" and r[4] == "积分 5" for r in got if r[0] == "杨娜燕")
    assert date(2026, 11, 13).isoformat() in {r[3] for r in got}


def test_a_photo_after_volunteer_is_its_evidence(wecom, county, standin, worker, tmp_path):
    """志愿 N小时, then a photo 1:1 within 10 minutes (app callback, MediaId,
    fetched from the stand-in's media/get): the volunteer record's evidence,
    confirmed in the reply, saved by its sha256 and counted in the ledger."""
    import hashlib
    from pathlib import Path

    from sqlalchemy import select

    from bot.wecom.media import fetch_pending
    from storage.models import Evidence, Volunteer
    from tests.wecom_peer import media_xml
    photo = b"\xff\xd8\xff\xe0" + b"volunteer" * 300
    standin.add_media("MEDIA_v1", photo, "敬老院.jpg")
    standin.add_media("MEDIA_v2", b"\xff\xd8\xff\xe0" + b"second" * 300, "合影.jpg")
    standin.add_media("MEDIA_late", b"\xff\xd8\xff\xe0late", "迟到.jpg")
    assert "10分钟内单聊发给我" in wecom.say(MEMBER, "志愿 3小时 敬老院打扫卫生")
    county.clock.advance(minutes=4)
    reply = wecom.open_reply(wecom.post(media_xml(MEMBER, "image", "MEDIA_v1")))["Content"]
    assert reply == "已将照片作为你11月16日志愿服务 3 小时的记录（这次服务共 1 份）。"
    reply = wecom.open_reply(wecom.post(media_xml(MEMBER, "image", "MEDIA_v2")))["Content"]
    assert "（这次服务共 2 份）" in reply
    county.clock.advance(minutes=7)  # 11 minutes after the record: nothing to attach it to, and it says so
    reply = wecom.open_reply(wecom.post(media_xml(MEMBER, "image", "MEDIA_late")))["Content"]
    assert "10分钟内没有你的上报或志愿服务登记" in reply
    # another member's photo never lands on 杨娜燕's record
    assert "没有你的上报" in wecom.open_reply(wecom.post(media_xml(ABSENTEE, "image", "MEDIA_v1")))["Content"]

    assert fetch_pending(county, worker.client) == 2
    with county.sessions() as s:
        [service] = s.scalars(select(Volunteer)).all()
        rows = s.scalars(select(Evidence).order_by(Evidence.id)).all()
    assert [(e.volunteer_id, e.report_id) for e in rows] == [(service.id, None)] * 2
    assert rows[0].sha256 == hashlib.sha256(photo).hexdigest() and Path(rows[0].path).read_bytes() == photo
    assert rows[0].file_name == "敬老院.jpg"

    people = sections(load_workbook(export(county, tmp_path))[MEMBERS])
    [volunteer] = [r for r in people["杨娜燕"] if r[1] == "志愿"]
    assert volunteer[4] == "3 小时" and volunteer[8] == "照片/文件 2 份"
    assert people["杨娜燕"][-1][8] == "照片/文件 2 份"


def test_a_photo_after_a_report_still_goes_to_the_report(wecom, county, standin, worker):
    """A secretary's 完成 after their own 志愿: the photo is about the later one."""
    from sqlalchemy import select

    from storage.models import Evidence
    from tests.wecom_peer import media_xml
    standin.add_media("MEDIA_r", b"\xff\xd8\xff\xe0report", "会议.jpg")
    wecom.say(SECRETARY, "志愿 2小时 防汛值守")
    county.clock.advance(minutes=2)
    wecom.say(SECRETARY, "完成 1 已排查")
    county.clock.advance(minutes=1)
    assert "作为第1项" in wecom.open_reply(wecom.post(media_xml(SECRETARY, "image", "MEDIA_r")))["Content"]
    with county.sessions() as s:
        [row] = s.scalars(select(Evidence)).all()
    assert row.report_id is not None and row.volunteer_id is None


def test_a_smart_robot_photo_with_or_after_volunteer_is_its_evidence(app, county, standin, worker):
    """The smart robot's single chat: a photo sent with `志愿` (mixed) or after
    it comes as an encrypted url; decrypted with the bot's key when fetched."""
    from sqlalchemy import select

    from bot.wecom.media import fetch_pending
    from storage.models import Evidence, Volunteer
    from tests.wecom_peer import AIBOT_AES_KEY, AibotPeer
    peer = AibotPeer(app.test_client(), county.clock)

    def content(reply) -> str:
        return reply["stream"]["content"] if reply["msgtype"] == "stream" else reply["text"]["content"]
    photo, later = b"\xff\xd8\xff\xe0" + b"mixed" * 200, b"\xff\xd8\xff\xe0" + b"after" * 200
    items = [{"msgtype": "text", "text": {"content": "志愿 1.5小时 河道清理"}},
             {"msgtype": "image", "image": {"url": standin.add_encrypted_media(photo, AIBOT_AES_KEY)}}]
    reply = content(peer.open(peer.post(peer.message(MEMBER, "mixed", chat_id=None, mixed={"msg_item": items}))))
    assert "已登记志愿服务 1.5 小时" in reply and "志愿服务 1.5 小时的记录（这次服务共 1 份）" in reply
    county.clock.advance(minutes=3)
    url = standin.add_encrypted_media(later, AIBOT_AES_KEY)
    reply = content(peer.open(peer.post(peer.message(MEMBER, "image", chat_id=None, image={"url": url}))))
    assert "（这次服务共 2 份）" in reply
    assert fetch_pending(county, worker.client) == 2
    with county.sessions() as s:
        [service] = s.scalars(select(Volunteer)).all()
        rows = s.scalars(select(Evidence).order_by(Evidence.id)).all()
    assert {e.volunteer_id for e in rows} == {service.id} and service.note == "河道清理"
    assert [open(e.path, "rb").read() for e in rows] == [photo, later]
