"""The org department's loop through real encrypted callbacks and the
loopback WeCom stand-in: publish, chase, return, progress N, meetings,
committee scope."""
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from storage.models import AuditEntry, Meeting, Report, Task

ORG = "s7001"           # 组织部 部长
COMMITTEE = "s7004"     # 县直机关工委 书记: ZB0001, ZB0002, ZB0012, ZB0028, ZB0030, ZB0033
SECRETARY = "u700001"   # ZB0001 书记
OTHER_SECRETARY = "u700012"  # ZB0002 书记
ALL_BRANCHES = 36


def group_messages(standin, text):
    return Counter(r["to"] for r in standin.received() if text in str(r["body"]))


def published(county, title):
    with county.sessions() as s:
        return s.scalar(select(Task).where(Task.title == title))


def test_publish_to_all_is_broadcast_once_outside_the_callback(wecom, county, standin, worker):
    reply = wecom.say(ORG, "发布 冬季党员集中轮训 截止 2026-12-10 对象 全部 请各支部组织党员参加冬训")
    assert "已发布第" in reply and f"发送到 {ALL_BRANCHES} 个支部" in reply
    with county.sessions() as s:  # the audit log says who, when and what
        [entry] = s.scalars(select(AuditEntry).where(AuditEntry.action == "publish")).all()
    assert entry.at == county.clock.now() and entry.channel == "chat" and ORG in entry.who
    assert entry.target.endswith("冬季党员集中轮训")
    assert standin.received() == []  # nothing sent inside the callback
    worker.drain()
    worker.drain()
    sent = group_messages(standin, "冬季党员集中轮训")
    assert len(sent) == ALL_BRANCHES and set(sent.values()) == {1}
    task = published(county, "冬季党员集中轮训")
    assert task.month == "2026-11" and task.deadline == date(2026, 12, 10) and task.note.startswith("请各支部")
    assert f"{task.number}. 冬季党员集中轮训" in wecom.say(SECRETARY, "任务")


def test_publish_to_categories_and_codes(wecom, county, standin, worker):
    wecom.say(ORG, "发布 村社区专项 截止 2026-12-01 对象 农村,社区")
    wecom.say(ORG, "发布 两个支部的专项 截止 2026-12-01 对象 ZB0001,ZB0002")
    worker.drain()
    rural = group_messages(standin, "村社区专项")
    assert rural and all(k.startswith(("robot-7-", "chat7")) for k in rural)
    assert len(rural) == 12  # 8 农村 + 4 社区 branches in the sample county
    assert set(group_messages(standin, "两个支部的专项")) == {"chat70001", "robot-7-0002"}


@pytest.mark.parametrize("text, reason", [
    ("发布 标题 截止 2026-13-40", "截止日期“2026-13-40”无效"),
    ("发布 标题 截止 2026-11-01", "已经过去"),
    ("发布 标题 截止 2026-12-01 对象 ZB9999", "ZB9999 不存在"),
    ("发布 标题 截止 2026-12-01 对象 农村,ZB0001", "不能混用"),
    ("发布 只有标题", "用法：发布 标题 截止"),
])
def test_publish_refusals_name_the_problem(wecom, county, text, reason):
    assert reason in wecom.say(ORG, text)
    with county.sessions() as s:
        assert s.scalar(select(Task).where(Task.natural_key.like("chat:%"))) is None


def test_a_secretary_may_not_publish(wecom, county):
    assert "不能发布任务" in wecom.say(SECRETARY, "发布 标题 截止 2026-12-01")


def test_committee_publishes_only_under_itself(wecom, county, standin, worker):
    assert "ZB0004 不存在" in wecom.say(COMMITTEE, "发布 越权 截止 2026-12-01 对象 ZB0004")
    reply = wecom.say(COMMITTEE, "发布 工委专项 截止 2026-12-01 对象 全部")
    assert "发送到 6 个支部" in reply
    worker.drain()
    assert len(group_messages(standin, "工委专项")) == 6
    task = published(county, "工委专项")
    assert task.target_kind == "codes" and "ZB0004" not in task.target_values


def test_chase_reminds_those_who_have_not_reported_once_a_day(wecom, county, standin, worker):
    wecom.say(SECRETARY, "完成 1 已排查")
    reply = wecom.say(ORG, "催办 1")
    assert f"已催办 {ALL_BRANCHES - 1} 个支部" in reply and "县财政局机关党支部" not in reply
    again = wecom.say(ORG, "催办 1")
    assert "今天已催办过" in again
    worker.drain()
    chased = group_messages(standin, "催办：第1项")
    assert len(chased) == ALL_BRANCHES - 1 and set(chased.values()) == {1} and "chat70001" not in chased
    county.clock.advance(days=1)
    wecom.say(ORG, "催办 1")
    worker.drain()
    assert set(group_messages(standin, "催办：第1项").values()) == {2}  # a new day, a new reminder


def test_committee_chases_only_its_branches(wecom, county, standin, worker):
    assert "已催办 6 个支部" in wecom.say(COMMITTEE, "催办 1")
    assert "不能催办" in wecom.say(SECRETARY, "催办 1")


def test_return_reopens_the_task_and_history_keeps_both(wecom, county, standin, worker):
    wecom.say(SECRETARY, "完成 1 已排查")
    reply = wecom.say(ORG, "退回 1 ZB0001 缺少排查情况表")
    assert "已退回县财政局机关党支部第1项" in reply
    worker.drain()
    [told] = [r for r in standin.received() if "退回" in str(r["body"])]
    assert told["to"] == "chat70001" and "缺少排查情况表" in str(told["body"])
    assert "被退回" in wecom.say(SECRETARY, "任务")
    assert "已记录" in wecom.say(SECRETARY, "完成 1 已补充排查情况表")  # open again
    with county.sessions() as s:
        first, second = s.scalars(select(Report).order_by(Report.id)).all()
    assert first.superseded_by == second.id and second.note == "已补充排查情况表"


@pytest.mark.parametrize("user, text, reason", [
    (COMMITTEE, "退回 1 ZB0001 不行", "不能退回上报"),
    (ORG, "退回 1 ZB0001 缺材料", "还没有上报第1项"),
    (ORG, "退回 1 ZB9999 缺材料", "没有找到支部“ZB9999”"),
    (ORG, "退回 1", "请写明支部和原因"),
    (ORG, "退回 99 ZB0001 x", "没有11月第99项任务"),
])
def test_return_refusals(wecom, county, user, text, reason):
    assert reason in wecom.say(user, text)


def test_progress_of_one_task_names_the_slowest_first(wecom, county):
    wecom.say(SECRETARY, "完成 1 已排查")
    wecom.say(OTHER_SECRETARY, "完成 1 已排查")
    wecom.say(ORG, "退回 1 ZB0002 不完整")
    reply = wecom.say(COMMITTEE, "进度 1")
    lines = reply.split("\n")
    assert "已上报 1，被退回 1，未上报 4" in lines[1]
    assert "未上报" in lines[2] and lines[-1].endswith("已上报")
    assert "ZB0004" not in reply


def test_meeting_is_logged_and_backfill_is_flagged(wecom, county):
    reply = wecom.say(SECRETARY, "会议 支委会 2026-11-13 出席 1/1 研究冬训安排")
    assert "已记录支委会（11月13日（周五））" in reply and "出席 1/1" in reply and "补记录" not in reply
    late = wecom.say(SECRETARY, "会议 党课 2026-10-20 出席 20/25")
    assert "补记录" in late and "27 天" in late
    with county.sessions() as s:
        meetings = s.scalars(select(Meeting).order_by(Meeting.id)).all()
    assert [(m.kind, m.attended, m.expected) for m in meetings] == [("支委会", 1, 1), ("党课", 20, 25)]
    assert all(m.received_at == county.clock.now() for m in meetings)


@pytest.mark.parametrize("text, reason", [
    ("会议 茶话会 2026-11-13", "会议类型“茶话会”不认识"),
    ("会议 支委会 2026-11-31", "日期“2026-11-31”无效"),
    ("会议 支委会 2026-12-01", "在今天之后"),
    ("会议 支委会 2026-11-13 出席 10/9", "出席人数 10 大于应到人数 9"),
    ("会议", "用法：会议 支委会"),
])
def test_meeting_refusals(wecom, county, text, reason):
    assert reason in wecom.say(SECRETARY, text)


def test_only_a_branch_committee_logs_meetings(wecom, county):
    assert "不能记录会议" in wecom.say("u700002", "会议 支委会 2026-11-13 出席 7/9")  # a plain member
    assert "不能记录会议" in wecom.say(ORG, "会议 支委会 2026-11-13 出席 7/9")  # staff are not a branch
    with county.sessions() as s:
        assert s.scalar(select(Meeting)) is None


def test_bulletin_in_chat_is_for_staff_only(wecom, county):
    assert "不能查看通报" in wecom.say(SECRETARY, "通报 2026-11")
    reply = wecom.say(ORG, "通报 2026-11")
    assert "2026年11月基层党建重点工作完成情况的通报" in reply and "按时完成率" in reply
    assert "用法：通报 2027-03" in wecom.say(ORG, "通报 十一月")


def test_bulletin_can_be_sent_to_every_branch_group_once(wecom, county, standin, worker):
    assert f"已安排发送到 {ALL_BRANCHES} 个支部群" in wecom.say(ORG, "通报 2026年11月 发送")
    assert "此前已发送" in wecom.say(ORG, "通报 2026-11 发送")
    worker.drain()
    sent = group_messages(standin, "2026年11月基层党建重点工作完成情况的通报")
    assert len(sent) == ALL_BRANCHES and set(sent.values()) == {1}
