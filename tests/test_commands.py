"""Every chat command through real encrypted callbacks, checked in the
decrypted reply and in the database."""
from datetime import date

import pytest
from sqlalchemy import func, select

from storage.models import Assignment, CheckIn, Evidence, InboundMessage, Report
from tests.wecom_peer import location_xml, media_xml

SECRETARY = "u700001"       # 吕丽刚, 书记, ZB0001 (机关)
PLAIN_MEMBER = "u700002"    # 邱国, 党员, ZB0001
ORG_STAFF = "s7001"         # 余刚永, 部长, 组织部
COMMITTEE = "s7004"         # 闫杰, 书记 of DW01 (县直机关工委)
# November 2026 (plan-2026.yaml): 1 = 排查软弱涣散基层党组织, due 11月27日


def reports(county):
    with county.sessions() as s:
        return s.scalars(select(Report).order_by(Report.id)).all()


def test_help_in_chinese_and_english(wecom):
    for text in ("帮助", "help", "ＨＥＬＰ"):
        reply = wecom.say(SECRETARY, text)
        assert "完成 N" in reply and "签到" in reply


def test_unknown_text_gets_a_short_friendly_help(wecom):
    reply = wecom.say(PLAIN_MEMBER, "天气预报说要降温")
    assert reply.startswith("没听懂“天气预报说要降温”") and "签到" in reply
    assert "完成 N" not in reply  # a plain member is not shown reporting commands


def test_whoami(wecom):
    reply = wecom.say(SECRETARY, "我的")
    assert "吕丽刚" in reply and "书记" in reply and "ZB0001" in reply


def test_tasks_lists_numbered_tasks_with_deadlines(wecom):
    reply = wecom.say(SECRETARY, "任务")
    assert "1. 排查软弱涣散基层党组织｜截止11月27日（周五）｜未完成" in reply
    assert "召开支部委员会会议" in reply
    assert "流动党员每月报到" not in reply  # targets 农村/社区 only; ZB0001 is 机关


@pytest.mark.parametrize("text", ["完成 1 已排查，无软弱涣散", "完成：1 已排查，无软弱涣散",
                                  "完成1 已排查，无软弱涣散", "完成 第一项 已排查，无软弱涣散",
                                  "@支部通 完成１　已排查，无软弱涣散。", "done 1 已排查，无软弱涣散"])
def test_done_records_the_report_with_server_time_and_sender(wecom, county, text):
    reply = wecom.say(SECRETARY, text)
    assert "已记录：第1项「排查软弱涣散基层党组织」" in reply and "11月16日 10:17" in reply
    assert "排查情况表" in reply  # the evidence the task asks for
    [report] = reports(county)
    assert report.note == "已排查，无软弱涣散" and report.received_at == county.clock.now()
    with county.sessions() as s:
        assert s.scalar(select(Assignment.state)) == "reported"


def test_done_twice_is_refused_and_points_to_correction(wecom, county):
    wecom.say(SECRETARY, "完成 1 已排查")
    reply = wecom.say(SECRETARY, "完成 1 再报一次")
    assert "已上报过" in reply and "更正 1" in reply
    assert len(reports(county)) == 1


def test_correction_keeps_the_old_version(wecom, county):
    wecom.say(SECRETARY, "完成 1 已排查")
    county.clock.advance(hours=2)
    reply = wecom.say(SECRETARY, "更正 1 已排查，发现1个软弱涣散村，已整改")
    assert "原记录（11月16日 10:17）：已排查" in reply and "原记录已保留" in reply
    old, new = reports(county)
    assert old.superseded_by == new.id and new.kind == "correction"
    assert old.note == "已排查" and new.received_at.hour == 12


@pytest.mark.parametrize("user, text, reason", [
    (SECRETARY, "完成 99", "本支部没有第99项任务"),
    (SECRETARY, "完成", "用法：完成 N"),
    (SECRETARY, "更正 1 说明", "第1项还没有上报"),
    (SECRETARY, "更正 1", "请写明更正内容"),
    (PLAIN_MEMBER, "完成 1", "不能为支部上报"),
    (ORG_STAFF, "完成 1", "不能为支部上报"),
])
def test_refusals_say_why_and_change_nothing(wecom, county, user, text, reason):
    assert reason in wecom.say(user, text)
    assert reports(county) == []


def test_task_not_for_this_branch_is_refused(wecom, county, tmp_path):
    # 流动党员每月报到 targets 农村/社区; ZB0001 is a 机关 branch.
    with county.sessions() as s:
        from storage.models import Task
        number = s.scalar(select(Task.number).where(Task.month == "2026-11", Task.title == "流动党员每月报到"))
    assert f"本支部没有第{number}项任务" in wecom.say(SECRETARY, f"完成 {number}")


def test_unknown_wecom_user_is_told_and_only_logged(wecom, county):
    reply = wecom.say("stranger01", "完成 1")
    assert "未找到你的党员信息" in reply and "组织部" in reply
    with county.sessions() as s:
        assert s.scalar(select(func.count(InboundMessage.id))) == 1
        assert s.scalar(select(func.count(Report.id))) == 0


def test_photo_within_ten_minutes_becomes_evidence(wecom, county):
    wecom.say(SECRETARY, "完成 1 已排查")
    county.clock.advance(minutes=9)
    reply = wecom.open_reply(wecom.post(media_xml(SECRETARY, "image", "MEDIA_abc123")))["Content"]
    assert "证明材料" in reply and "第1项" in reply
    with county.sessions() as s:
        [evidence] = s.scalars(select(Evidence)).all()
    assert evidence.media_id == "MEDIA_abc123" and evidence.kind == "image"


def test_photo_after_ten_minutes_is_not_attached(wecom, county):
    wecom.say(SECRETARY, "完成 1 已排查")
    county.clock.advance(minutes=11)
    reply = wecom.open_reply(wecom.post(media_xml(SECRETARY, "image", "MEDIA_late")))["Content"]
    assert "请先发送“完成 N 说明”" in reply
    with county.sessions() as s:
        assert s.scalar(select(func.count(Evidence.id))) == 0


def test_checkin_counts_one_per_day_and_reports_the_month(wecom, county):
    mobile = "u700029"
    first_at = county.clock.now()
    first = wecom.say(mobile, "签到 在东莞打工")
    assert "签到成功" in first and "本月已签到 1 天" in first
    again = wecom.say(mobile, "签到")
    assert "今天已经签到过了" in again
    county.clock.advance(days=1)
    reply = wecom.open_reply(wecom.post(location_xml(mobile, 23.02, 113.75, "广东省东莞市南城街道")))["Content"]
    assert "位置：广东省东莞市南城街道" in reply and "本月已签到 2 天" in reply and "11月17日" in reply
    with county.sessions() as s:
        rows = s.scalars(select(CheckIn).order_by(CheckIn.day)).all()
    assert [r.day for r in rows] == [date(2026, 11, 16), date(2026, 11, 17)]
    assert rows[0].note == "在东莞打工" and rows[1].latitude == 23.02 and rows[1].label.startswith("广东")
    assert [r.received_at for r in rows] == [first_at, county.clock.now()]  # each kept with the time it came


def test_progress_for_a_secretary_and_for_staff(wecom, county):
    wecom.say(SECRETARY, "完成 1 已排查")
    mine = wecom.say(SECRETARY, "进度")
    assert "县财政局机关党支部" in mine and "已完成 1/" in mine
    committee = wecom.say(COMMITTEE, "进度")
    assert committee.startswith("县直机关工委") and "ZB0001" in committee
    assert "ZB0004" not in committee  # not under DW01
    county_wide = wecom.say(ORG_STAFF, "进度")
    assert "共 36 个支部" in county_wide
    # slowest first: ZB0001 has reported one task, so it is not at the top
    first_branch_line = county_wide.split("\n")[1]
    assert "ZB0001" not in first_branch_line


def test_sheet_in_chat_matches_tasks(wecom):
    reply = wecom.say(SECRETARY, "提醒单")
    assert "2026年11月重点工作提醒单" in reply and "1. 排查软弱涣散基层党组织" in reply
    assert "需报：排查情况表" in reply
    assert "用法：提醒单 2027-03" in wecom.say(SECRETARY, "提醒单 三月")
    march = wecom.say(SECRETARY, "提醒单 2027-03")
    assert "2027年3月" in march and "核对全国党员管理信息系统党员信息" in march


def test_events_other_than_entering_get_an_empty_answer(wecom, county):
    from tests.wecom_peer import event_xml
    for event in ("subscribe", "LOCATION", "view"):  # enter_agent: a greeting (test_message_kinds.py)
        response = wecom.post(event_xml(SECRETARY, event))
        assert response.status_code == 200 and response.data == b""


def test_evidence_is_downloaded_with_its_sha256(app, wecom, county, standin, worker):
    import hashlib
    from pathlib import Path

    from bot.wecom.media import fetch_pending
    photo = b"\xff\xd8\xff\xe0" + b"jpeg-bytes" * 100
    standin.add_media("MEDIA_photo1", photo, "会议照片.jpg")
    wecom.say(SECRETARY, "完成 1 已排查")
    wecom.post(media_xml(SECRETARY, "image", "MEDIA_photo1"))
    wecom.post(media_xml(SECRETARY, "file", "MEDIA_expired"))  # WeCom no longer has it
    assert fetch_pending(county, worker.client) == 1
    with county.sessions() as s:
        saved, expired = s.scalars(select(Evidence).order_by(Evidence.id)).all()
    assert saved.sha256 == hashlib.sha256(photo).hexdigest() and saved.media_id == "MEDIA_photo1"
    assert Path(saved.path).read_bytes() == photo and saved.file_name == "会议照片.jpg"
    assert expired.path is None and "40007" in expired.last_error
    assert fetch_pending(county, worker.client) == 0  # nothing fetched twice


def test_a_crashing_handler_says_only_that_it_failed_and_is_not_rerun(wecom, county, monkeypatch, caplog):
    from handlers.registry import REGISTRY
    from tests.wecom_peer import text_xml

    calls = []

    def broken(cmd, ctx):
        calls.append(cmd)
        raise RuntimeError("secret internal detail")
    [secretary_tasks] = REGISTRY.entries["tasks"].handlers
    monkeypatch.setattr(secretary_tasks, "fn", broken)
    message = text_xml(SECRETARY, "任务", msg_id=9_000_000_001)
    reply = wecom.open_reply(wecom.post(message))["Content"]
    assert "处理失败" in reply and "secret" not in reply and "Traceback" not in reply
    assert "secret internal detail" in caplog.text  # the traceback goes to the log
    # WeCom's retry (its answer was lost) does not run it again: it gets the same answer
    assert wecom.open_reply(wecom.post(message))["Content"] == reply and len(calls) == 1
    with county.sessions() as s:
        assert s.scalar(select(InboundMessage.outcome)) == "error"


def test_an_earlier_months_task_can_still_be_reported(wecom, county):
    from datetime import datetime
    county.clock.at = datetime(2026, 12, 2, 9, 30)
    assert "11月第1项 排查软弱涣散基层党组织" in wecom.say(SECRETARY, "任务")  # still owed
    reply = wecom.say(SECRETARY, "完成 11月第1项 补报排查情况")
    assert "已记录：11月第1项「排查软弱涣散基层党组织」" in reply and "逾期完成" in reply
    assert "11月第1项已上报过" in wecom.say(SECRETARY, "完成 11-1")
    with county.sessions() as s:
        assert s.scalar(select(Report.note)) == "补报排查情况"
