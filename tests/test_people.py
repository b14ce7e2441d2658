"""Issue 12 through real encrypted callbacks: attendance by name, report
once, the member's own record, points."""
from datetime import datetime

import pytest
from sqlalchemy import select

from storage.db import transaction
from storage.models import Attendance, CheckIn, Meeting, Member, Organization, Report, Task

SECRETARY = "u700041"   # 贺东刚, 书记 of ZB0004 (农村, 32 members, 5 支委, 8 mobile)
MEMBER = "u700046"      # 杨娜燕, 党员 of ZB0004
COMMITTEE = "s7004"     # 闫杰, staff of DW01
MOBILE = ["u700048", "u700050", "u700056", "u700057", "u700064", "u700067", "u700068", "u700070"]


def rows(county, model, *where):
    with county.sessions() as s:
        return s.scalars(select(model).where(*where).order_by(model.id)).all()


def roll_of(county, meeting_id):
    with county.sessions() as s:
        return dict(s.execute(select(Member.name, Attendance.status).join(Member, Attendance.member_id == Member.id)
                              .where(Attendance.meeting_id == meeting_id)).all())


def report_for(county, title, month="2026-11"):
    with county.sessions() as s:
        task = s.scalar(select(Task).where(Task.title == title, Task.month == month))
        return s.scalar(select(Report).where(Report.task_id == task.id, Report.branch_id == _zb4(s)))


def _zb4(s):
    return s.scalar(select(Organization.id).where(Organization.code == "ZB0004"))


def test_meeting_with_absent_and_excused_names_completes_its_task_per_member(wecom, county):
    reply = wecom.say(SECRETARY, "会议 主题党日 2026-11-13 出席 29/32 缺席 孔永秀、 张志兰 请假：廖梅敏 参观红色教育基地")
    assert "已记录主题党日" in reply and "出席 29/32" in reply
    assert "缺席：孔永秀、张志兰" in reply and "请假：廖梅敏" in reply
    assert "同时完成" in reply and "开展主题党日活动" in reply
    [meeting] = rows(county, Meeting)
    assert (meeting.attended, meeting.expected, meeting.note) == (29, 32, "参观红色教育基地")
    roll = roll_of(county, meeting.id)
    assert len(roll) == 32 and roll["孔永秀"] == roll["张志兰"] == "absent" and roll["廖梅敏"] == "excused"
    assert roll["莫娜建"] == "present" and roll["高明静"] == "present"  # a member without WeCom is on the roll
    report = report_for(county, "开展主题党日活动")
    assert report.meeting_id == meeting.id and report.received_at == county.clock.now()


def test_committee_meeting_roll_is_the_committee(wecom, county):
    reply = wecom.say(SECRETARY, "会议 支委会 2026-11-13 出席 4/5 请假 高明静")
    assert "出席 4/5" in reply and "召开支部委员会会议" in reply
    [meeting] = rows(county, Meeting)
    assert roll_of(county, meeting.id) == {"贺东刚": "present", "高明静": "excused", "任梅志": "present",
                                           "叶春志": "present", "石刚英": "present"}
    assert "应到人员是书记、副书记和支委" in wecom.say(SECRETARY, "会议 支委会 2026-11-14 缺席 杨娜燕")


@pytest.mark.parametrize("text, reason", [
    ("会议 主题党日 2026-11-13 出席 30/32 缺席 孔永秀", "出席应为 31 人"),
    ("会议 主题党日 2026-11-13 出席 29/30 缺席 孔永秀、张志兰", "应到人数 30 与名册不符"),
    ("会议 主题党日 2026-11-13 出席 31/32", "请写明缺席、请假的姓名"),
    ("会议 主题党日 2026-11-13 缺席 张三", "名册中没有“张三”"),
    ("会议 主题党日 2026-11-13 缺席 莫娜建 请假 莫娜建", "既写在缺席里又写在请假里"),
])
def test_roll_disagreements_are_refused_and_nothing_is_written(wecom, county, text, reason):
    assert reason in wecom.say(SECRETARY, text)
    assert rows(county, Meeting) == [] and report_for(county, "开展主题党日活动") is None


def test_ambiguous_and_homophone_names_are_asked_back_never_guessed(wecom, county):
    with transaction(county.sessions) as s:
        zb4 = _zb4(s)
        s.add(Member(name="孔永秀", roster_key="dup-1", phone="13900001234", org_id=zb4, role="党员",
                     status="正式党员", received_at=county.clock.now(), updated_at=county.clock.now()))
    reply = wecom.say(SECRETARY, "会议 党员大会 2026-11-13 缺席 孔永秀")
    assert "有 2 位“孔永秀”" in reply and "孔永秀(7718)" in reply and "孔永秀(1234)" in reply
    assert rows(county, Meeting) == []
    assert "是不是“孔永秀”" in wecom.say(SECRETARY, "会议 党员大会 2026-11-13 缺席 孔勇秀")
    reply = wecom.say(SECRETARY, "会议 党员大会 2026-11-13 缺席 孔永秀（1234） 冬训动员")
    assert "出席 32/33" in reply
    [meeting] = rows(county, Meeting)
    assert meeting.note == "冬训动员"


def test_spaces_inside_a_name_and_full_width_marks_are_tolerated(wecom, county):
    reply = wecom.say(SECRETARY, "会议 党员大会 2026-11-13 出席 30/32 缺席 孔 永秀，张志兰")
    assert "缺席：孔永秀、张志兰" in reply


def test_done_on_a_meeting_duty_asks_for_the_meeting_or_logs_both(wecom, county):
    with county.sessions() as s:
        number = s.scalar(select(Task.number).where(Task.title == "召开支部委员会会议", Task.month == "2026-11"))
    assert "请连同会议情况一起报" in wecom.say(SECRETARY, f"完成 {number}")
    assert report_for(county, "召开支部委员会会议") is None
    reply = wecom.say(SECRETARY, f"完成 {number} 2026-11-12 出席 5/5 研究冬训")
    assert "已记录支委会" in reply and "同时完成" in reply
    [meeting] = rows(county, Meeting)
    assert report_for(county, "召开支部委员会会议").meeting_id == meeting.id


def test_committee_staff_log_their_own_meetings(wecom, county):
    reply = wecom.say(COMMITTEE, "会议 党员大会 2026-11-13")
    assert "已记录党员大会" in reply
    [meeting] = rows(county, Meeting)
    with county.sessions() as s:
        assert s.get(Organization, meeting.branch_id).code == "DW01"


def test_checkin_of_every_mobile_member_completes_the_duty_and_the_sheet_names_the_rest(wecom, county):
    for user in MOBILE[:-2]:
        wecom.say(user, "签到")
    sheet = wecom.say(SECRETARY, "提醒单")
    assert "尚未报到（2人）：方艳珍、田伟" in sheet
    assert report_for(county, "流动党员每月报到") is None
    wecom.say(MOBILE[-2], "签到")
    reply = wecom.say(SECRETARY, "代签 田伟 电话联系，在杭州务工")
    assert "已为田伟代签" in reply and "代签" in reply and "已自动完成" in reply
    assert report_for(county, "流动党员每月报到") is not None
    [proxy] = rows(county, CheckIn, CheckIn.proxy_by.is_not(None))
    assert proxy.note == "电话联系，在杭州务工"
    assert "不能代签" in wecom.say(MEMBER, "代签 田伟")




def _secretary_of(county, code):
    with county.sessions() as s:
        return s.scalar(select(Member.wecom_userid).join(Organization, Member.org_id == Organization.id)
                        .where(Organization.code == code, Member.role == "书记"))


def test_volunteer_study_and_community_registration(wecom, county):
    assert "已登记双报到：柳林乡7社区党支部（ZB0007）" in wecom.say(MEMBER, "双报到 ZB0007")
    reply = wecom.say(MEMBER, "志愿 2.5小时 社区垃圾分类宣传")
    assert "已登记志愿服务 2.5 小时" in reply and "计入你双报到的社区" in reply
    assert "时长" in wecom.say(MEMBER, "志愿 30小时")
    assert "用法：志愿 N小时" in wecom.say(MEMBER, "志愿 很久")
    assert "已登记学习“党章第二章”" in wecom.say(MEMBER, "学习 党章第二章")
    assert "双报到党员志愿服务：本月 1 人，2.5 小时" in wecom.say(_secretary_of(county, "ZB0007"), "进度")
    assert "没有找到社区" in wecom.say(MEMBER, "双报到 火星")


def test_whoami_shows_the_quarter_and_points_come_from_taking_part(wecom, county):
    # The secretary types everything; 杨娜燕 types nothing but attends both, 孔永秀 misses one without leave.
    wecom.say(SECRETARY, "会议 主题党日 2026-10-15 缺席 孔永秀")
    county.clock.advance(days=1)
    wecom.say(SECRETARY, "会议 党员大会 2026-11-13 缺席 贺东刚")  # the typist himself was away
    wecom.say(MOBILE[0], "签到")
    wecom.say(MOBILE[0], "志愿 12小时 防汛值守")
    wecom.say(MOBILE[0], "学习 党章")
    member = wecom.say(MEMBER, "我的")
    assert "会议：出席 1 次 / 应参加 1 次" in member and "主题党日：参加 1 次 / 共 1 次" in member
    assert "签到：0 天" in member and "志愿：0 小时" in member and "学习：0 天" in member
    assert "积分：4 分" in member  # meeting 2 + 主题党日 2, for attending
    typist = wecom.say(SECRETARY, "我的")
    assert "会议：出席 0 次 / 应参加 1 次" in typist and "积分：1 分" in typist  # 主题党日 2 − absent 1
    mobile = wecom.say(MOBILE[0], "我的")
    assert "签到：1 天" in mobile and "志愿：12 小时" in mobile and "学习：1 天" in mobile
    assert "积分：16 分" in mobile  # 2 + 2 + check-in month 1 + volunteer capped at 10 + study 1
    assert "积分：1 分" in wecom.say("u700047", "我的")  # 孔永秀: 主题党日 missed −1, 党员大会 +2


def test_a_duty_done_by_a_late_logged_meeting_is_backfilled_in_every_view(wecom, county):
    """Logged 11 days after it was held: the meeting and the duty it completed
    say 补记录 in 任务, 进度 and the ledger; a meeting logged in time does not."""
    from handlers.render.ledger import ledger_rows
    from storage.ledger import build_ledgers
    from storage.month import Month
    assert "补记录" in wecom.say(SECRETARY, "会议 支委会 2026-11-05 出席 5/5 研究冬训")
    assert "同时完成" in wecom.say(SECRETARY, "会议 主题党日 2026-11-14 出席 32/32")
    tasks_reply = wecom.say(SECRETARY, "任务")
    [duty] = [line for line in tasks_reply.splitlines() if "召开支部委员会会议" in line]
    assert "已上报（补记录：会议 11月5日召开，会后 11 天登记）" in duty
    [theme] = [line for line in tasks_reply.splitlines() if "开展主题党日活动" in line]
    assert theme.endswith("已上报") and "补记录" not in theme
    progress = wecom.say(SECRETARY, "进度")
    assert "召开支部委员会会议：已上报（补记录：会议 11月5日召开，会后 11 天登记）" in progress
    assert "开展主题党日活动" not in progress
    with county.sessions() as s:  # staff's 进度 N says it of the branch too
        number = s.scalar(select(Task.number).where(Task.title == "召开支部委员会会议", Task.month == "2026-11"))
    staff = wecom.say("s7006", f"进度 {number}")  # DW02 (城关镇党委), above ZB0004
    assert "（ZB0004）：已上报（补记录：会议 11月5日召开，会后 11 天登记）" in staff
    with county.sessions() as s:
        zb4 = s.get(Organization, _zb4(s))
        [ledger] = build_ledgers(s, [zb4], Month(2026, 11), Month(2026, 11), county.clock.now().date())
    by_title = {row[2]: row for row in ledger_rows(ledger) if row[0] == "任务"}
    [committee] = [row for title, row in by_title.items() if title.endswith("召开支部委员会会议")]
    assert committee[4] == "已上报" and "补记录（会后 11 天登记）" in committee[9]
    [theme_row] = [row for title, row in by_title.items() if title.endswith("开展主题党日活动")]
    assert theme_row[4] == "已上报" and "补记录" not in theme_row[9]


@pytest.mark.parametrize("kind", ["组织生活会", "民主评议", "党员大会"])
def test_a_bare_head_count_against_the_roll_is_refused_and_nothing_is_written(wecom, county, kind):
    """The whole branch is the roll (32 active members): 出席 20/25 cannot say
    who came, so it is refused with the roll's size and how to name people."""
    reply = wecom.say(SECRETARY, f"会议 {kind} 2026-11-13 出席 20/25 学习讨论")
    assert "应到人数 25 与名册不符" in reply and f"本支部{kind}应到 32 人" in reply
    assert "本条未记录" in reply and "写明缺席、请假的姓名" in reply and "出席 x/32" in reply
    assert rows(county, Meeting) == [] and rows(county, Attendance) == [] and rows(county, Report) == []


def test_a_committee_head_count_must_match_the_committee(wecom, county):
    reply = wecom.say(SECRETARY, "会议 支委会 2026-11-13 出席 4/4")
    assert "按名册，本支部支委会应到 5 人（书记、副书记和支委）" in reply and "本条未记录" in reply
    assert rows(county, Meeting) == [] and report_for(county, "召开支部委员会会议") is None


@pytest.mark.parametrize("kind", ["组织生活会", "民主评议"])
def test_all_present_records_every_member_on_the_roll(wecom, county, kind):
    reply = wecom.say(SECRETARY, f"会议 {kind} 2026-11-13 出席 32/32")
    assert f"已记录{kind}" in reply and "出席 32/32" in reply
    [meeting] = rows(county, Meeting)
    roll = roll_of(county, meeting.id)
    assert len(roll) == 32 and set(roll.values()) == {"present"}


def test_a_kind_without_a_roll_keeps_its_head_count(wecom, county):
    reply = wecom.say(SECRETARY, "会议 谈心谈话 2026-11-13 出席 2/2 与杨娜燕谈心")
    assert "已记录谈心谈话" in reply and "出席 2/2" in reply and "名册" not in reply
    [meeting] = rows(county, Meeting)
    assert (meeting.attended, meeting.expected) == (2, 2) and roll_of(county, meeting.id) == {}
