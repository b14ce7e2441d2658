"""Issue 13: own words. Every message of the corpus (tests/words_corpus.yaml)
is read for its intent and arguments against the sample county's real
tasks and rolls; the whole corpus through the real handler path writes no
record without a 是; a representative subset goes through real encrypted
callbacks (proposal → 是 → record, → 不是 → nothing, a trap → nothing, a
proposal that expired or was replaced → nothing)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot.clock import FrozenClock
from handlers.dispatch import handle, route
from handlers.inbound import Inbound
from handlers.understand.reading import TaskInfo, World, read
from storage.db import transaction
from storage.meetings import people_of
from storage.models import (Attendance, CheckIn, Meeting, Organization, Proposal, Report, Study, Volunteer)
from storage.month import Month
from storage.tasks import REPORTED, branch_tasks
from tests.conftest import load_county, make_runtime

CORPUS = yaml.safe_load((Path(__file__).parent / "words_corpus.yaml").read_text(encoding="utf-8"))
USERS = {  # (branch, who) → a WeCom user of the sample roster
    ("ZB0004", "secretary"): "u700041", ("ZB0004", "member"): "u700046", ("ZB0004", "mobile"): "u700048",
    ("ZB0007", "secretary"): "u700127", ("ZB0007", "member"): "u700133", ("ZB0007", "mobile"): "u700129",
    ("ZB0002", "secretary"): "u700012", ("ZB0002", "member"): "u700015", ("ZB0002", "mobile"): "u700015",
    ("ZB0004", "staff"): "s7004",
}
RECORDS = (Report, Meeting, Attendance, CheckIn, Volunteer, Study)
SECRETARY, MEMBER, MOBILE = "u700041", "u700046", "u700048"


@pytest.fixture
def wecom(wired, county):
    """These senders read the app through the WeChat plugin (text only), so a
    proposal is the text reply they read; cards: tests/test_words_card.py."""
    from bot.config import load_config
    from bot.web import create_app
    from tests.wecom_peer import WeComPeer
    wired.config = load_config(environ={}, use_file=False,
                               overrides={**wired.config.values, "wecom.plain_text_users": "all"})
    return WeComPeer(create_app(runtime=wired).test_client(), county.clock)


def _id(entry) -> str:
    return entry["text"][:24]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("words")
    rt = load_county(make_runtime(f"sqlite:///{path}/zhibu.db", path))
    yield rt
    rt.engine.dispose()


def world_of(rt, branch: str, today: date) -> World:
    """The World dispatch builds (handlers/understand/answer.py world_for), for a branch and a day."""
    with rt.sessions() as s:
        org = s.scalar(select(Organization).where(Organization.code == branch))
        tasks = [TaskInfo(bt.task.number, bt.task.title, bt.task.duty, bt.state == REPORTED)
                 for bt in branch_tasks(s, org, Month.of(today))]
        people = people_of(s, org.id)
    return World(today, lambda: tasks, lambda: people)


def test_the_corpus_is_big_and_varied():
    assert len(CORPUS) >= 150
    assert {e.get("branch", "ZB0004") for e in CORPUS} >= {"ZB0004", "ZB0007", "ZB0002"}
    assert len({e.get("today", "2026-11-16") for e in CORPUS}) >= 3
    assert {e["intent"] for e in CORPUS} >= {"done", "meeting", "checkin", "proxy_checkin", "volunteer", "study",
                                             "tasks", "sheet", "progress", "whoami", "help", "ask", "decline",
                                             "chitchat", "nothing"}


@pytest.mark.parametrize("entry", CORPUS, ids=_id)
def test_each_message_is_read_for_its_intent_and_arguments(sample, entry):
    today = entry.get("today", date(2026, 11, 16))
    reading = read(entry["text"], world_of(sample, entry.get("branch", "ZB0004"), today))
    assert reading.intent == entry["intent"], reading
    if "command" in entry:
        assert reading.command == entry["command"]
    if "says" in entry:
        assert entry["says"] in reading.reply
    if "why" in entry:
        assert reading.why == entry["why"]


def _count(rt) -> dict:
    with rt.sessions() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in RECORDS}


def test_no_record_is_written_from_any_message_of_the_corpus_without_a_yes(runtime):
    """The whole corpus through the real handler path (after the crypto), as
    each sender on each day: answers, proposals, questions back — and not one
    report, meeting, attendance, check-in, volunteer or study row."""
    rt = load_county(runtime)
    before = _count(rt)
    proposed = 0
    for n, entry in enumerate(CORPUS):
        day = entry.get("today", date(2026, 11, 16))
        clock = FrozenClock(datetime.combine(day, time(10, 17)))
        user = USERS[(entry.get("branch", "ZB0004"), entry["who"])]
        inbound = Inbound("app", user, "text", entry["text"], dedupe_key=f"corpus-{n}")
        exact = route(inbound).name != "unknown"  # 志愿服务怎么算时长: the 志愿 command's usage line
        reply = handle(inbound, rt.sessions, clock)
        assert reply, entry["text"]
        assert "Traceback" not in reply
        if not exact and entry["intent"] in ("done", "meeting", "checkin", "proxy_checkin", "volunteer", "study") \
                and "我理解为" in reply:
            proposed += 1
            assert "回复“是”确认" in reply and f"（相当于命令：{entry['command']}）" in reply
    assert _count(rt) == before
    assert proposed >= 60
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Proposal).where(Proposal.state == "confirmed")) == 0


# --- through real encrypted callbacks -------------------------------------

def rows(county, model):
    with county.sessions() as s:
        return s.scalars(select(model).order_by(model.id)).all()


def test_a_report_in_own_words_is_proposed_and_recorded_on_yes(wecom, county):
    reply = wecom.say(SECRETARY, "第一项完成了 没有发现软弱涣散的情况")
    assert reply.startswith("我理解为：完成第1项「排查软弱涣散基层党组织」，说明“没有发现软弱涣散的情况”。")
    assert "回复“是”确认，“不是”取消" in reply
    assert rows(county, Report) == []
    county.clock.advance(minutes=2)
    reply = wecom.say(SECRETARY, "是")
    assert "已记录：第1项「排查软弱涣散基层党组织」" in reply
    [report] = rows(county, Report)
    assert report.note == "没有发现软弱涣散的情况" and report.received_at == county.clock.now()
    assert "现在没有需要确认的事项" in wecom.say(SECRETARY, "是")  # acted on once
    assert len(rows(county, Report)) == 1


def test_no_cancels_and_nothing_is_written(wecom, county):
    assert "我理解为" in wecom.say(SECRETARY, "软弱涣散排查已经弄好了 @支部通")
    assert "已取消" in wecom.say(SECRETARY, "不是")
    assert "现在没有需要确认的事项" in wecom.say(SECRETARY, "是")
    assert rows(county, Report) == []


def test_a_meeting_in_own_words_goes_through_the_meeting_command_with_its_roll(wecom, county):
    reply = wecom.say(SECRETARY, "今天下午开了支委会到会4人高主任请假")
    assert "我理解为：11月16日（周一）开了支委会，出席 4/5，请假 高明静" in reply and "高主任（高明静）" in reply
    assert rows(county, Meeting) == []
    reply = wecom.say(SECRETARY, "好的")
    assert "已记录支委会" in reply and "请假：高明静" in reply and "同时完成" in reply
    [meeting] = rows(county, Meeting)
    assert (meeting.attended, meeting.expected) == (4, 5)


def test_a_proxy_checkin_in_own_words_is_marked_proxy(wecom, county):
    assert "为田伟代签" in wecom.say(SECRETARY, "田伟在外地打工 电话联系过了")
    reply = wecom.say(SECRETARY, "确认")
    assert "已为田伟代签" in reply
    [checkin] = rows(county, CheckIn)
    assert checkin.proxy_by is not None and checkin.note == "在外地打工 电话联系过了"


@pytest.mark.parametrize("trap", ["第一项还没完成", "明天开支委会", "支委会要几个人参加？", "书记说第二项完成了吗",
                                  "收到", "好的谢谢", "【通知】各党支部：请于11月30日前完成软弱涣散基层党组织排查。"])
def test_a_trap_gets_a_short_answer_and_nothing_is_written(wecom, county, trap):
    reply = wecom.say(SECRETARY, trap)
    assert reply and "我理解为" not in reply and len(reply) < 200
    assert "现在没有需要确认的事项" in wecom.say(SECRETARY, "是")
    assert all(rows(county, model) == [] for model in RECORDS)


def test_a_proposal_expires_after_ten_minutes(wecom, county):
    assert "我理解为" in wecom.say(SECRETARY, "第一项完成了")
    county.clock.advance(minutes=10, seconds=1)
    assert "已作废" in wecom.say(SECRETARY, "是")
    assert rows(county, Report) == []
    assert "现在没有需要确认的事项" in wecom.say(SECRETARY, "是")


def test_a_new_message_replaces_the_proposal(wecom, county):
    assert "我理解为" in wecom.say(SECRETARY, "第一项完成了")
    assert "任务：" in wecom.say(SECRETARY, "任务")  # an exact command in between
    assert "已作废" in wecom.say(SECRETARY, "是")
    assert "我理解为" in wecom.say(SECRETARY, "第一项完成了")
    assert "我理解为：为田伟代签" in wecom.say(SECRETARY, "帮田伟签个到")  # a new proposal replaces it
    assert "已为田伟代签" in wecom.say(SECRETARY, "是")
    assert rows(county, Report) == [] and len(rows(county, CheckIn)) == 1


def test_a_member_cannot_have_a_report_proposed(wecom, county):
    reply = wecom.say(MEMBER, "第一项完成了")
    assert "不能为支部上报" in reply and "我理解为" not in reply
    assert "现在没有需要确认的事项" in wecom.say(MEMBER, "是")
    assert rows(county, Report) == []


def test_queries_in_own_words_are_answered_at_once(wecom, county):
    assert "重点工作提醒单" in wecom.say(SECRETARY, "这个月提醒单发我一下") or \
        "提醒单" in wecom.say(SECRETARY, "这个月提醒单发我一下")
    assert "1. 排查软弱涣散基层党组织" in wecom.say(SECRETARY, "这个月有什么任务")
    assert "已完成 0/" in wecom.say(SECRETARY, "我们支部进度怎么样")
    assert "积分" in wecom.say(MEMBER, "我有多少积分")
    assert all(rows(county, model) == [] for model in RECORDS)


def test_a_question_glued_to_a_command_word_is_not_the_command(wecom, county):
    reply = wecom.say(MOBILE, "签到了吗")
    assert "签到成功" not in reply and rows(county, CheckIn) == []
    assert "我理解为：登记一次学习“党章”" in wecom.say(MEMBER, "学习了党章")
    assert "签到成功" in wecom.say(MOBILE, "签到")  # the exact command acts at once, as before


def test_yes_through_the_smart_robot_in_a_group(app, county):
    from tests.wecom_peer import AibotPeer
    peer = AibotPeer(app.test_client(), county.clock)
    assert "我理解为" in peer.say(SECRETARY, "@支部通 软弱涣散排查搞定了")["stream"]["content"]
    assert "已记录：第1项" in peer.say(SECRETARY, "@支部通 是")["stream"]["content"]
    assert len(rows(county, Report)) == 1


# --- days, and text nobody wrote ------------------------------------------

@pytest.mark.parametrize("said, today, day", [
    ("今天", "2026-11-16", "2026-11-16"), ("昨天", "2026-11-16", "2026-11-15"), ("前天", "2026-11-16", "2026-11-14"),
    ("上周五", "2026-11-16", "2026-11-13"), ("本周一", "2026-11-18", "2026-11-16"), ("这周三", "2026-11-18", "2026-11-18"),
    ("周三", "2026-11-16", "2026-11-11"), ("3月5日", "2027-03-08", "2027-03-05"), ("3.5", "2027-03-08", "2027-03-05"),
    ("12月28号", "2027-01-04", "2026-12-28"), ("15号", "2026-11-16", "2026-11-15"),
    ("2027-03-05", "2027-03-08", "2027-03-05"), ("2027年3月5日", "2027-03-08", "2027-03-05"),
])
def test_days_are_read_relative_to_today(said, today, day):
    from handlers.understand.dates import find_day
    found = find_day(f"{said}开了支委会", date.fromisoformat(today))
    assert found is not None and found.day == date.fromisoformat(day)


@pytest.mark.parametrize("text", ["1.5小时", "3号楼", "2月30日", "13.5元"])
def test_numbers_that_are_no_day_are_not_read_as_one(text):
    from handlers.understand.dates import find_day
    assert find_day(text, date(2026, 11, 16)) is None


def test_any_text_is_read_without_failing_and_a_write_is_a_command_as_typed(sample):
    """Random text (hypothesis): a Reading, never an exception; a write reads
    back through the exact parser as the same command."""
    from hypothesis import example, given, settings, strategies as st

    from handlers.parse import parse_command
    world = world_of(sample, "ZB0004", date(2026, 11, 16))
    alphabet = st.sampled_from(list("第一二三四五六七八九十项完成了开支委会党员大会缺席请假到会人没不吗明天昨天上周五"
                                    "孔永秀张志兰老李高主任签到报个志愿小时学习说?？,，0123456789/. @"))

    writes = []

    @settings(max_examples=400, deadline=None)
    @given(st.text(alphabet=alphabet, max_size=40))
    @example("第一项完成了")  # at least one write is always among the texts checked
    def check(text):
        reading = read(text, world)
        if reading.writes:
            writes.append(text)
            assert parse_command(reading.command).name == reading.intent
    check()
    assert writes  # the property was checked on writes, not only on texts that write nothing


# --- a proposal is taken once, on every database; a card can carry its id ---

def test_a_proposal_is_taken_once_and_not_after_it_expires(any_db_url, tmp_path):
    from storage.models import Member
    from storage.proposals import CONFIRMED, decide, latest_pending, propose
    rt = make_runtime(any_db_url, tmp_path)
    now = datetime(2026, 11, 16, 10, 17)
    with transaction(rt.sessions) as s:
        org = Organization(code="ZB9", name="九支部", type="党支部", category="农村", active=True,
                           received_at=now, updated_at=now)
        s.add(org)
        s.flush()
        member = Member(name="甲", roster_key="k9", wecom_userid="u9", org_id=org.id, role="书记", status="正式党员",
                        received_at=now, updated_at=now)
        s.add(member)
        s.flush()
        member_id = member.id
        first = propose(s, member_id, "完成 1", "完成第1项", None, now)
        second = propose(s, member_id, "完成 2", "完成第2项", None, now)  # replaces the first
    seen = []
    for _ in range(2):  # two processes see the same pending proposal …
        with transaction(rt.sessions) as s:
            seen.append(latest_pending(s, member_id).id)
    assert seen == [second, second]
    taken = []
    for _ in range(2):  # … and each tries to take it: once
        with transaction(rt.sessions) as s:
            taken.append(decide(s, second, CONFIRMED, now))
    assert taken == [True, False]
    with transaction(rt.sessions) as s:
        assert not decide(s, first, CONFIRMED, now)  # replaced
        late = propose(s, member_id, "完成 3", "完成第3项", None, now)
    with transaction(rt.sessions) as s:
        assert not decide(s, late, CONFIRMED, now + timedelta(minutes=10))
        assert decide(s, late, CONFIRMED, now + timedelta(minutes=9, seconds=59))
    rt.engine.dispose()


def test_a_card_button_can_confirm_a_proposal_by_its_id(wecom, county):
    from handlers.context import Actor, Context
    from handlers.understand.answer import decide_by_id
    from storage.members import active_member_by_userid, organization
    assert "我理解为" in wecom.say(SECRETARY, "第一项完成了")
    [proposal] = rows(county, Proposal)

    def press(user: str, yes: bool) -> str:
        with transaction(county.sessions) as s:
            member = active_member_by_userid(s.connection(), user)
            actor = Actor(member, organization(s.connection(), member.org_id))
            inbound = Inbound("app", user, "event", event="template_card_event", dedupe_key=f"card-{user}-{yes}")
            return decide_by_id(proposal.id, yes, Context(s, county.clock.now(), actor, inbound, None))[0]
    assert "不是你的" in press(MEMBER, True)
    assert "已记录：第1项" in press(SECRETARY, True)
    assert "已经处理过了" in press(SECRETARY, True)
    assert len(rows(county, Report)) == 1


def test_an_exact_command_never_reaches_the_understanding_step(wecom, county, monkeypatch):
    """Exact commands cost what they did: with the understanding step
    broken, they still work — and a free-text message does not."""
    from handlers.understand import answer as own_words

    def broken(*args, **kwargs):
        raise RuntimeError("the understanding step ran")
    monkeypatch.setattr(own_words, "answer", broken)
    assert "任务：" in wecom.say(SECRETARY, "任务")
    assert "已记录：第1项" in wecom.say(SECRETARY, "完成 1 已排查")
    assert "签到成功" in wecom.say(MOBILE, "签到")
    assert "已记录支委会" in wecom.say(SECRETARY, "会议 支委会 2026-11-13 出席 5/5")
    assert "处理失败" in wecom.say(SECRETARY, "第一项完成了")


def test_a_meeting_proposal_says_who_will_be_counted_present(wecom, county):
    reply = wecom.say(SECRETARY, "昨天开了党员大会")
    assert "我理解为：11月15日（周日）开了党员大会，未写缺席、请假的人（应到人员都记为出席）" in reply
    reply = wecom.say(SECRETARY, "昨天开了党小组会")  # no roll for a 党小组会: nobody is counted
    assert "我理解为：11月15日（周日）开了党小组会。" in reply
    assert "已记录党小组会" in wecom.say(SECRETARY, "是")
    assert rows(county, Attendance) == []


def test_chit_chat_gets_a_short_answer_in_the_role_s_own_examples(wecom, county):
    reply = wecom.say(MEMBER, "你好呀")
    assert reply.startswith("你好！") and "签到" in reply and "完成" not in reply
    assert wecom.say(SECRETARY, "辛苦了") == "不客气！"
    # a bare 收到 acknowledges nothing (收到 N does): the secretary is told how, the member just hears 好的
    assert wecom.say(SECRETARY, "收到") == "好的。如是回复某项任务的提醒，请发“收到 N”（N 为任务序号），组织部就能看到已收到。"
    assert wecom.say(MEMBER, "收到") == "好的。"
