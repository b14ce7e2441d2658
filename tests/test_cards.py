"""One tap (SPEC "One tap"): template cards to a branch's secretary, their
buttons clicked through real encrypted app callbacks (Tencent's crypto as
the peer), every card and card update checked by the WeCom stand-in as
WeCom checks them; the extension flow; the plain-text fallback."""
import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.config import load_config
from bot.outbound.worker import DeliveryWorker
from bot.wecom.client import WeComClient
from bot.wecom.standin import card_problem
from storage.models import Assignment, AuditEntry, ExtensionRequest, Report, Task
from tests.conftest import no_sleep
from tests.wecom_peer import card_event_xml, media_xml
from tests.workbench import accounts, as_org  # noqa: F401  (fixtures)

ORG = "s7001"             # 组织部 部长: publishes
COMMITTEE = "s7004"       # 县直机关工委 书记: ZB0001's committee, did not publish
SECRETARY = "u700001"     # ZB0001 书记
MEMBER = "u700002"        # ZB0001 党员
OTHER_SECRETARY = "u700012"  # ZB0002 书记
_times = itertools.count(1_700_001_000, 7)


def publish(wecom, county, title="冬季走访困难党员", deadline="2026-11-20"):
    assert "已发布" in wecom.say(ORG, f"发布 {title} 截止 {deadline} 对象 全部")
    with county.sessions() as s:
        return s.scalar(select(Task).where(Task.title == title))


def cards_to(standin, user):
    return [r["body"]["template_card"] for r in standin.received("message/send")
            if r["to"] == user and r["body"]["msgtype"] == "template_card"]


def texts_to(standin, user):
    return [r["body"][r["body"]["msgtype"]]["content"] for r in standin.received("message/send")
            if r["to"] == user and r["body"]["msgtype"] in ("text", "markdown")]


def updates_to(standin, user):
    return [r["body"] for r in standin.received("message/update_template_card") if r["to"] == user]


def press(wecom, standin, user, card, text, key=None):
    """`user` clicks the button `text` of `card` (or sends `key` instead of its key)."""
    button = next(b for b in card["button_list"] if b["text"] == text)
    code = standin.click(card["task_id"])
    response = wecom.post(card_event_xml(user, key or button["key"], card["task_id"], code, next(_times)))
    assert response.status_code == 200 and response.data == b""  # the answer goes as a message
    return code


def chased(wecom, standin, worker, number):
    assert "已催办" in wecom.say(ORG, f"催办 {number}")
    worker.drain()
    [card] = cards_to(standin, SECRETARY)
    return card


def assignment(county, task, code="ZB0001"):
    from storage.models import Organization
    with county.sessions() as s:
        branch = s.scalar(select(Organization).where(Organization.code == code))
        return s.scalar(select(Assignment).where(Assignment.task_id == task.id, Assignment.branch_id == branch.id))


def moved_to(county, task, code="ZB0001"):
    """The branch's own deadline for the task, if an extension moved it."""
    row = assignment(county, task, code)
    return row.deadline if row is not None else None


def test_a_chase_reaches_the_secretary_as_a_card_wecom_accepts(wecom, county, standin, worker):
    task = publish(wecom, county)
    card = chased(wecom, standin, worker, task.number)
    assert card_problem(card) is None and card["card_type"] == "button_interaction"
    assert [b["text"] for b in card["button_list"]] == ["收到", "已完成", "申请延期"]
    assert all(len(b["key"].encode()) <= 1024 for b in card["button_list"])
    assert "冬季走访困难党员" in card["main_title"]["title"]
    assert any("冬季走访困难党员" in t for t in texts_to(standin, SECRETARY)) is False  # the card, not text
    assert not cards_to(standin, MEMBER)  # members get no card


def test_acknowledged_shows_on_progress_ledger_and_matrix(wecom, county, standin, worker):
    task = publish(wecom, county)
    card = chased(wecom, standin, worker, task.number)
    press(wecom, standin, SECRETARY, card, "收到")
    worker.drain()
    assert any("已收到" in t and "冬季走访困难党员" in t for t in texts_to(standin, SECRETARY))
    [update] = updates_to(standin, SECRETARY)
    assert [b["text"] for b in update["template_card"]["button_list"]] == ["已完成", "申请延期"]
    assert update["template_card"]["task_id"] == card["task_id"]
    row = assignment(county, task)
    assert row.acknowledged_at == county.clock.now() and row.state == "open"
    assert f"{task.number}. 冬季走访困难党员：已收到" in wecom.say(SECRETARY, "进度")
    assert "已收到" in wecom.say(SECRETARY, "任务")
    assert "已收到 1" in wecom.say(ORG, f"进度 {task.number}")
    from handlers.render.ledger import ledger_rows
    from storage.ledger import build_ledgers
    from storage.matrix import grid, month_tasks
    from storage.month import Month
    from storage.models import Organization
    with county.sessions() as s:
        branch = s.scalar(select(Organization).where(Organization.code == "ZB0001"))
        tasks = month_tasks(s, Month(2026, 11))
        [row] = grid(s, tasks, [branch], date(2026, 11, 16))
        assert row[[t.id for t in tasks].index(task.id)] == ["a", "11-16 10:17"]
        [row] = grid(s, tasks, [branch], date(2026, 11, 21))  # past its deadline: overdue, 收到 or not
        assert row[[t.id for t in tasks].index(task.id)] == ["x"]
        [ledger] = build_ledgers(s, [branch], Month(2026, 11), Month(2026, 11), date(2026, 11, 16))
    [line] = [r for r in ledger_rows(ledger) if "冬季走访困难党员" in r[2]]
    assert line[4] == "已收到" and "已收到（2026-11-16 10:17）" in line[9]


def test_a_forged_or_copied_key_does_nothing(wecom, county, standin, worker):
    task = publish(wecom, county)
    card = chased(wecom, standin, worker, task.number)
    press(wecom, standin, SECRETARY, card, "收到", key="ack:notAKeyWeEverIssued")
    press(wecom, standin, MEMBER, card, "已完成")  # the secretary's card's key, from someone else
    press(wecom, standin, OTHER_SECRETARY, card, "收到")
    worker.drain()
    assert assignment(county, task) is None
    with county.sessions() as s:
        assert s.scalars(select(Report)).all() == []
    for user in (SECRETARY, MEMBER, OTHER_SECRETARY):
        assert any("按钮已失效" in t for t in texts_to(standin, user)), user
    assert standin.received("message/update_template_card") == []


def test_a_double_click_acts_once_and_a_retry_is_deduped(wecom, county, standin, worker):
    task = publish(wecom, county)
    card = chased(wecom, standin, worker, task.number)
    button = card["button_list"][0]["key"]
    first = card_event_xml(SECRETARY, button, card["task_id"], standin.click(card["task_id"]), 1_700_009_000)
    wecom.post(first)
    wecom.post(first)  # WeCom re-delivers the same event
    county.clock.advance(minutes=3)
    press(wecom, standin, SECRETARY, card, "收到")
    worker.drain()
    assert assignment(county, task).acknowledged_at == county.clock.now() - timedelta(minutes=3)
    replies = [t for t in texts_to(standin, SECRETARY) if "收到" in t]
    assert len(replies) == 2 and "收到过" in replies[1]


def test_done_on_a_task_that_asks_for_evidence_waits_for_it(wecom, county, standin, worker):
    card = chased(wecom, standin, worker, 1)  # 排查软弱涣散基层党组织: 需报 排查情况表
    press(wecom, standin, SECRETARY, card, "已完成")
    worker.drain()
    assert any("需报：排查情况表" in t for t in texts_to(standin, SECRETARY))
    with county.sessions() as s:
        assert s.scalars(select(Report)).all() == []  # not done without it
    standin.add_media("m-table", b"%PDF-1.7 table", "排查情况表.pdf")
    reply = wecom.open_reply(wecom.post(media_xml(SECRETARY, "file", "m-table")))["Content"]
    assert "已记录：第1项" in reply and "已将文件作为第1项" in reply
    with county.sessions() as s:
        [report] = s.scalars(select(Report)).all()
        assert report.evidence and report.evidence[0].media_id == "m-table"


def test_done_without_evidence_reports_and_greys_the_card(wecom, county, standin, worker):
    task = publish(wecom, county)
    card = chased(wecom, standin, worker, task.number)
    press(wecom, standin, SECRETARY, card, "已完成")
    worker.drain()
    assert assignment(county, task).state == "reported"
    [update] = updates_to(standin, SECRETARY)
    assert update["button"] == {"replace_name": "已完成"}


def ask_seven_days(wecom, standin, worker, card):
    press(wecom, standin, SECRETARY, card, "申请延期")
    worker.drain()
    [update] = updates_to(standin, SECRETARY)
    days_card = update["template_card"]
    assert [b["text"] for b in days_card["button_list"]] == ["延期3天", "延期7天", "已完成"]
    press(wecom, standin, SECRETARY, days_card, "延期7天")
    worker.drain()
    [decision] = cards_to(standin, ORG)
    assert [b["text"] for b in decision["button_list"]] == ["同意", "不同意"] and card_problem(decision) is None
    return decision


def test_an_extension_granted_moves_only_that_branch_deadline(wecom, county, standin, worker):
    task = publish(wecom, county)
    decision = ask_seven_days(wecom, standin, worker, chased(wecom, standin, worker, task.number))
    press(wecom, standin, COMMITTEE, decision, "同意")  # not the card's recipient
    assert moved_to(county, task) is None
    press(wecom, standin, ORG, decision, "同意")
    worker.drain()
    assert assignment(county, task).deadline == date(2026, 11, 27)
    assert assignment(county, task, "ZB0002") is None  # another branch keeps the task's deadline
    told = [r for r in standin.received() if "延期已同意" in str(r["body"])]
    assert {r["to"] for r in told} >= {SECRETARY} and len(told) == 2  # the group and the secretary
    assert "11月27日" in wecom.say(SECRETARY, "任务")
    assert "冬季走访困难党员，截止11月27日（周五）（已延期）" in wecom.say(SECRETARY, "提醒单")
    assert "冬季走访困难党员，截止11月20日" in wecom.say(OTHER_SECRETARY, "提醒单")
    with county.sessions() as s:
        [entry] = s.scalars(select(AuditEntry).where(AuditEntry.action == "extension")).all()
        assert "ZB0001" in entry.detail and "2026-11-27" in entry.detail
        [request] = s.scalars(select(ExtensionRequest)).all()
        assert request.state == "granted" and request.decided_at == county.clock.now()
    assert updates_to(standin, ORG)[0]["button"] == {"replace_name": "已同意"}
    # the ledger shows it
    from handlers.render.ledger import ledger_rows
    from storage.ledger import build_ledgers
    from storage.models import Organization
    from storage.month import Month
    with county.sessions() as s:
        branch = s.scalar(select(Organization).where(Organization.code == "ZB0001"))
        [ledger] = build_ledgers(s, [branch], Month(2026, 11), Month(2026, 11), date(2026, 11, 23))
    [line] = [r for r in ledger_rows(ledger) if "冬季走访困难党员" in r[2]]
    assert line[3] == date(2026, 11, 27) and "延期至 2026-11-27（原截止 2026-11-20）" in line[9]
    assert line[4] == "未上报"  # past the task's deadline, not past its own


def test_an_extension_refused_leaves_the_deadline(wecom, county, standin, worker):
    task = publish(wecom, county)
    decision = ask_seven_days(wecom, standin, worker, chased(wecom, standin, worker, task.number))
    press(wecom, standin, ORG, decision, "不同意")
    worker.drain()
    assert moved_to(county, task) is None
    assert any("延期未同意" in t for t in texts_to(standin, SECRETARY))
    with county.sessions() as s:
        assert s.scalar(select(ExtensionRequest.state)) == "refused"
        assert s.scalars(select(AuditEntry.action).where(AuditEntry.action == "extension-refused")).all()


def test_only_the_publishing_staff_decide_by_text(wecom, county, standin, worker):
    task = publish(wecom, county)
    reply = wecom.say(SECRETARY, f"延期 {task.number} 3天 村里换届")
    assert "已提交延期申请" in reply
    with county.sessions() as s:
        request = s.scalar(select(ExtensionRequest))
    assert request.reason == "村里换届" and request.days == 3
    assert "不能审核延期申请" in wecom.say(COMMITTEE, f"同意延期 {request.id}")
    assert "不能审核延期申请" in wecom.say(SECRETARY, f"同意延期 {request.id}")
    assert moved_to(county, task) is None
    assert "新截止日期" in wecom.say(ORG, f"同意延期 {request.id}")
    assert assignment(county, task).deadline == date(2026, 11, 23)
    assert "已处理过" in wecom.say(ORG, f"不同意延期 {request.id}")


def test_a_member_cannot_acknowledge_or_ask_for_the_branch(wecom, county):
    assert "不能为支部操作" in wecom.say(MEMBER, "收到 1")
    assert "不能为支部操作" in wecom.say(MEMBER, "延期 1 7天")
    assert assignment(county, type("T", (), {"id": 1})()) is None


def test_plain_text_users_get_text_with_the_commands_and_the_commands_work(wecom, county, standin, wired):
    wired.config = load_config(environ={}, use_file=False,
                               overrides={**wired.config.values, "wecom.plain_text_users": SECRETARY})
    worker = DeliveryWorker(wired, WeComClient(wired, sleep=no_sleep), threads=2)
    try:
        task = publish(wecom, county)
        wecom.say(ORG, f"催办 {task.number}")
        worker.drain()
        assert cards_to(standin, SECRETARY) == []
        [text] = [r["body"] for r in standin.received("message/send") if r["to"] == SECRETARY]
        assert text["msgtype"] == "text" and "**" not in text["text"]["content"]
        for command in (f"收到 {task.number}", f"完成 {task.number} 说明", f"延期 {task.number} 7天 原因"):
            assert command in text["text"]["content"]
        assert "已收到" in wecom.say(SECRETARY, f"收到 {task.number}")
        assert assignment(county, task).acknowledged_at is not None
        assert "收到过" in wecom.say(SECRETARY, f"收到 {task.number}")
        assert "已提交延期申请" in wecom.say(SECRETARY, f"延期 {task.number} 7天 在外地")
        worker.drain()
        assert cards_to(standin, ORG)  # the org staff are not plain-text users: a card
    finally:
        worker.pool.shutdown()


def test_a_card_taken_back_from_a_dead_sender_goes_again_marked_and_accepted(wecom, county, standin, worker):
    """After a crash a card that may have reached WeCom goes again, marked 补发,
    with a fresh task_id — WeCom would refuse the same one twice."""
    from datetime import datetime

    from sqlalchemy import update

    from storage.db import transaction
    from storage.models import Delivery
    task = publish(wecom, county)
    wecom.say(ORG, f"催办 {task.number}")
    worker.drain()
    [first] = cards_to(standin, SECRETARY)
    with transaction(county.sessions) as s:  # as if the sender died just after WeCom took it
        s.execute(update(Delivery).where(Delivery.target == f"member:{SECRETARY}")
                  .values(state="sending", claimed_by="gone:1:x", claimed_at=datetime(2026, 11, 16, 9)))
    worker.drain()
    first_again, second = cards_to(standin, SECRETARY)
    assert second["main_title"]["title"].startswith("（补发）") and second["task_id"] != first["task_id"]
    assert card_problem(second) is None
    with county.sessions() as s:
        assert s.scalar(select(Delivery.state).where(Delivery.target == f"member:{SECRETARY}")) == "sent"


# ---- the stand-in checks cards as WeCom does -------------------------------------------

GOOD = {"card_type": "button_interaction", "main_title": {"title": "催办"}, "task_id": "zb-abc_DEF-1@x",
        "button_list": [{"text": "收到", "key": "ack:k"}]}


@pytest.mark.parametrize("change, problem", [
    ({"main_title": {}}, "main_title"),
    ({"task_id": "有中文"}, "task_id"),
    ({"task_id": "x" * 129}, "task_id"),
    ({"task_id": None}, "task_id"),
    ({"button_list": []}, "button_list"),
    ({"button_list": [{"text": f"b{i}", "key": f"k{i}"} for i in range(7)]}, "button_list"),
    ({"button_list": [{"text": "收到", "key": "k" * 1025}]}, "1024"),
    ({"button_list": [{"text": "a", "key": "k"}, {"text": "b", "key": "k"}]}, "repeated"),
    ({"card_type": "button"}, "card_type"),
])
def test_the_standin_refuses_what_wecom_refuses(change, problem):
    card = {**GOOD, **change}
    if card["task_id"] is None:
        del card["task_id"]
    assert problem in card_problem(card)
    assert card_problem(GOOD) is None
    assert "exist" in card_problem(GOOD, {GOOD["task_id"]})


def test_a_response_code_updates_once_within_72_hours(wired, standin):
    client = WeComClient(wired, sleep=no_sleep)
    client.send_card(SECRETARY, GOOD)
    body = {"userids": [SECRETARY], "agentid": 1000002, "button": {"replace_name": "已收到"}}
    code = standin.click(GOOD["task_id"])
    client.update_card({**body, "response_code": code})
    from bot.wecom.client import SendError
    with pytest.raises(SendError, match="40078"):
        client.update_card({**body, "response_code": code})  # single use
    old = standin.click(GOOD["task_id"])
    wired.clock.advance(hours=72, seconds=1)
    with pytest.raises(SendError, match="40078"):
        client.update_card({**body, "response_code": old})
    with pytest.raises(SendError, match="task_id exist"):
        client.send_card(SECRETARY, GOOD)  # a task_id once per app


# ---- the workbench and the smart robot ---------------------------------------------------

def test_the_matrix_filters_acknowledged_and_the_task_page_shows_it(accounts, as_org, wecom):
    from tests.test_workbench_matrix import matrix
    assert "已收到" in wecom.say(SECRETARY, "收到 1")
    data, rows = matrix(as_org, "?status=acknowledged")
    assert [code for code, _ in data["branches"]] == ["ZB0001"] and rows["ZB0001"][1] == ["a", "11-16 10:17"]
    assert "收 已收到" in as_org.page("/dashboard/matrix")
    page = as_org.page("/dashboard/tasks/1")
    assert "收到 11-16 10:17" in page and "<b>1</b> 已收到" in page


def test_a_click_through_the_smart_robot_is_the_same_click(app, county, standin, worker, wecom):
    from tests.wecom_peer import AibotPeer
    peer = AibotPeer(app.test_client(), county.clock)
    task = publish(wecom, county)
    card = chased(wecom, standin, worker, task.number)
    key = card["button_list"][0]["key"]
    click = {"event": {"eventtype": "template_card_event", "template_card_event": {
        "card_type": "button_interaction", "event_key": key, "task_id": card["task_id"]}}, "create_time": 1_700_000_500}
    doc = peer.message(SECRETARY, "event", chat_id=None, **click)
    assert peer.open(peer.post(doc)) is None
    assert peer.open(peer.post(doc)) is None  # a duplicate: acted on once
    worker.drain()
    assert assignment(county, task).acknowledged_at == county.clock.now()
    assert len([t for t in texts_to(standin, SECRETARY) if "已收到" in t]) == 1
