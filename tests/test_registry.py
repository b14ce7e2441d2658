"""The chat-command table (handlers/registry.py): every spelling reaches a
function with a help line, help shows each role what it may use, and a role
that may not use a command is refused before the function runs."""
import pytest
from sqlalchemy import select, text

from handlers import __version__
from handlers.context import BRANCH, MEMBER, REPORTERS, STAFF
from handlers.parse import parse_command
from handlers.registry import REGISTRY, Registry, cannot
from storage.db import schema_version
from storage.models import InboundMessage, Report
from tests.wecom_peer import CORP_ID

SECRETARY = "u700001"       # 书记, ZB0001
PLAIN_MEMBER = "u700002"    # 党员, ZB0001
ORG_STAFF = "s7001"         # 组织部
COMMITTEE = "s7004"         # 县直机关工委
STAFF_WORDS = {"发布", "催办", "退回", "通报"}
REPORTING_WORDS = {"完成", "更正", "会议"}


# The table itself ----------------------------------------------------------

def test_the_table_has_no_problems():
    assert REGISTRY.problems() == []


@pytest.mark.parametrize("name, spelling", [(e.name, s) for e in REGISTRY.loaded().entries.values()
                                            for s in e.spellings])
def test_every_spelling_reaches_its_command_and_a_help_line(name, spelling):
    assert parse_command(spelling).name == name
    assert parse_command(f"{spelling.upper()} 3").name == name  # as typed, shouting or not
    handlers = REGISTRY.entries[name].handlers
    assert handlers and all(h.help for h in handlers)


def test_chinese_first_and_an_english_spelling_for_every_command():
    for entry in REGISTRY.entries.values():
        assert not entry.spellings[0].isascii(), entry.name
        assert any(s.isascii() and s.isalpha() for s in entry.spellings), entry.name


def _one(registry: Registry, name: str, *spellings: str, doc: str | None = "x：y", **kw):
    def fn(cmd, ctx):
        return "ok"
    fn.__doc__ = doc
    registry.command(name, *spellings, **kw)(fn)


@pytest.mark.parametrize("build, complaint", [
    (lambda r: (_one(r, "a", "甲", "a"), _one(r, "b", "甲", "b")), "'甲' spells both 'a' and 'b'"),
    (lambda r: _one(r, "a", "甲", "a", doc=None), "has no docstring"),
    (lambda r: _one(r, "a", "甲", "a", doc="   "), "has no docstring"),
    (lambda r: _one(r, "progres", roles=STAFF), "a handler no spelling reaches"),
    (lambda r: _one(r, "a", "甲", "Done"), "can never match"),
    (lambda r: _one(r, "a", "甲", "ａ"), "can never match"),
    (lambda r: _one(r, "a", "甲", "a", roles=()), "has roles []"),
    (lambda r: _one(r, "a", "甲", "a", roles=("reporters",)), "has roles ['reporters']"),
    (lambda r: _one(r, "a", "甲", "a", roles=REPORTERS), "no refusal says why"),
    (lambda r: (_one(r, "a", "甲", "a"), _one(r, "a", roles=(MEMBER,))), "two functions for the same role"),
])
def test_a_wrong_table_is_reported(build, complaint):
    registry = Registry()
    build(registry)
    assert any(complaint in p for p in registry.problems()), registry.problems()


def test_a_command_is_spelled_in_one_place_only():
    registry = Registry()
    _one(registry, "a", "甲", "a", roles=BRANCH, refusal=cannot("甲"))
    with pytest.raises(ValueError, match="spelled in two places"):
        _one(registry, "a", "乙", roles=STAFF)


def test_a_right_table_with_two_functions_for_two_roles_is_fine():
    registry = Registry()
    _one(registry, "a", "甲", "a", roles=BRANCH)
    _one(registry, "a", roles=STAFF)
    assert registry.problems() == []
    assert [h.roles for h in registry.entries["a"].handlers] == [frozenset(BRANCH), frozenset(STAFF)]


def test_the_longest_spelling_wins():
    registry = Registry()
    _one(registry, "remind", "提醒", "remind")
    _one(registry, "sheet", "提醒单", "sheet")
    assert parse_command("提醒单 2027-03", registry.spellings()).name == "sheet"
    assert parse_command("提醒 3", registry.spellings()).name == "remind"


# What users see ------------------------------------------------------------

def command_words(help_reply: str) -> set[str]:
    """The command each help line starts with: "· 完成 N [说明]：…" → 完成."""
    return {line[2:].split("：")[0].split()[0] for line in help_reply.split("\n")[1:]}


def test_a_member_is_shown_no_staff_or_reporting_commands(wecom):
    reply = wecom.say(PLAIN_MEMBER, "帮助")
    shown = command_words(reply)
    assert {"任务", "提醒单", "签到", "我的"} <= shown
    assert not shown & (STAFF_WORDS | REPORTING_WORDS) and "下属" not in reply


def test_an_org_admin_is_shown_return_and_a_committee_is_not(wecom):
    admin = wecom.say(ORG_STAFF, "帮助")
    assert "退回 N 支部编码 原因" in admin and "进度 [N]：下属支部" in admin
    assert STAFF_WORDS <= command_words(admin)
    assert not command_words(admin) & (REPORTING_WORDS | {"任务", "提醒单"})
    assert command_words(wecom.say(COMMITTEE, "帮助")) & STAFF_WORDS == {"发布", "催办", "通报"}


def test_help_lists_a_secretarys_commands_most_used_first_and_with_examples(wecom):
    lines = wecom.say(SECRETARY, "help").split("\n")
    assert lines[1] == "· 完成 N [说明]：上报第N项已完成，如：完成 2 已开会，到会9人"
    assert lines == wecom.say(SECRETARY, "帮助").split("\n")  # the same every time
    assert "· 进度：本支部本月完成情况" in lines  # a branch's 进度, not the staff one


def test_a_refused_role_is_told_why_before_the_function_runs(wecom, county, monkeypatch):
    calls = []
    [done] = REGISTRY.entries["done"].handlers
    monkeypatch.setattr(done, "fn", lambda cmd, ctx: calls.append(cmd) or "ran")
    assert wecom.say(PLAIN_MEMBER, "完成 1 已排查") == "你的职务（党员）不能为支部上报（只有书记、副书记和支委可以上报）。"
    assert calls == []
    assert wecom.say(SECRETARY, "完成 1 已排查") == "ran" and len(calls) == 1  # the same path, allowed
    with county.sessions() as s:
        assert s.scalars(select(Report)).all() == []
        outcomes = s.scalars(select(InboundMessage.outcome).order_by(InboundMessage.id)).all()
    assert outcomes == ["refused: done", "done"]


def test_branch_commands_point_staff_to_progress(wecom):
    for text in ("任务", "提醒单 2026-11"):
        assert wecom.say(ORG_STAFF, text) == "这是支部的命令；你是组织部门工作人员，请用“进度”查看各支部情况。"


def test_a_message_kind_with_no_command_gets_the_unsupported_text(wecom):
    link = (f"<xml><ToUserName>{CORP_ID}</ToUserName><FromUserName>{SECRETARY}</FromUserName>"
            f"<CreateTime>1700000000</CreateTime><MsgType>link</MsgType><Title>t</Title>"
            f"<Url>http://example.invalid/</Url><MsgId>9100000001</MsgId><AgentID>1000002</AgentID></xml>")
    assert wecom.open_reply(wecom.post(link))["Content"] == "暂不支持这类消息，请发送文字，如“帮助”。"


@pytest.mark.parametrize("user", [PLAIN_MEMBER, SECRETARY, COMMITTEE, ORG_STAFF])
def test_version_names_the_bot_and_the_database_schema_for_everyone(wecom, county, user):
    revision = schema_version(county.engine)
    assert revision and wecom.say(user, "版本") == f"支部通 {__version__}\n数据库结构版本 {revision}"
    assert "版本：" in wecom.say(user, "帮助")
    with county.engine.begin() as conn:  # the answer is read from the database, not remembered
        conn.execute(text("UPDATE alembic_version SET version_num = 'zz99'"))
    assert wecom.say(user, "VERSION").endswith("数据库结构版本 zz99")
