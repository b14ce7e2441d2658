"""Extension requests (申请延期) decided on the workbench: the chat's own
`decide` underneath, so the rule of who may decide, the moved deadline,
the messages to the branch and the audit row are the chat's; the overview
lists what waits for a decision. Real app, real database, CSRF tokens."""
import re
import threading
import time
from datetime import date

import pytest
from sqlalchemy import select

from storage.models import Assignment, AuditEntry, Delivery, ExtensionRequest, Member, Organization, Task
from tests.test_cards import cards_to, press, texts_to, updates_to
from tests.test_workbench_matrix import matrix
from tests.workbench import (COMMITTEE, ORG, OTHER_SECRETARY, SECRETARY, Client, accounts, add_account,  # noqa: F401
                             app, as_committee, as_org, as_secretary)

FAR_SECRETARY = "u700041"  # 贺东刚, 书记 of ZB0004 (城关镇党委: outside 县直机关工委's subtree)


def publish(wecom, accounts, by=ORG, title="冬季走访困难党员", deadline="2026-11-20"):
    assert "已发布" in wecom.say(by, f"发布 {title} 截止 {deadline} 对象 全部")
    with accounts.sessions() as s:
        return s.scalar(select(Task).where(Task.title == title))


def ask(wecom, accounts, task, who=SECRETARY, text="7天 村里换届"):
    assert "已提交延期申请" in wecom.say(who, f"延期 {task.number} {text}")
    with accounts.sessions() as s:
        return s.scalars(select(ExtensionRequest).order_by(ExtensionRequest.id.desc())).first()


def decide(client, task, request, decision="grant", **fields):
    return client.post(f"/dashboard/tasks/{task.id}/extensions/{request.id}", {"decision": decision, **fields})


def own_deadline(accounts, task, code="ZB0001"):
    with accounts.sessions() as s:
        branch = s.scalar(select(Organization).where(Organization.code == code))
        return s.scalar(select(Assignment.deadline).where(Assignment.task_id == task.id,
                                                          Assignment.branch_id == branch.id))


def state_of(accounts, request):
    with accounts.sessions() as s:
        return s.get(ExtensionRequest, request.id).state


def told(accounts, request):
    """(audience, body) of the decision's rows in the outbox."""
    with accounts.sessions() as s:
        return sorted(s.execute(select(Delivery.target, Delivery.body).where(
            Delivery.purpose == f"extension-{request.id}", Delivery.period == "decision")).all())


def audit_rows(accounts):
    with accounts.sessions() as s:
        return s.scalars(select(AuditEntry).where(AuditEntry.action.like("extension%"))).all()


def flash_after(client, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client.page(response.headers["Location"])


def test_a_grant_moves_only_that_branch_and_tells_it_as_chat_does(as_org, wecom, accounts, app):
    task = publish(wecom, accounts)
    request = ask(wecom, accounts, task)
    page = as_org.page(f"/dashboard/tasks/{task.id}")
    assert "待审批的延期申请（1）" in page and "延期7天 待审核" in page and "村里换届" in page
    assert "2026-11-20 → 2026-11-27" in page and f'action="/dashboard/tasks/{task.id}/extensions/{request.id}"' in page
    assert 'data-confirm="同意' in page and "延期7天（截止 2026-11-20 → 2026-11-27）？将通知该支部。" in page

    page = flash_after(as_org, decide(as_org, task, request))
    assert "已同意" in page and f"（编号 {request.id}），新截止日期 11月27日" in page and "已通知该支部" in page
    assert "延期7天 已同意" in page and "截止延至 2026-11-27" in page and "待审批的延期申请" not in page
    assert own_deadline(accounts, task) == date(2026, 11, 27)
    assert own_deadline(accounts, task, "ZB0002") is None  # every other branch keeps the task's deadline
    assert state_of(accounts, request) == "granted"
    rows = told(accounts, request)
    assert [target for target, _ in rows] == ["member:u700001", "org:ZB0001"]  # the asker and the group
    assert all("延期已同意" in body and "延至11月27日" in body for _, body in rows)
    [entry] = audit_rows(accounts)
    assert (entry.action, entry.channel, entry.address) == ("extension", "web", "127.0.0.1")
    assert "ZB0001" in entry.detail and "2026-11-27" in entry.detail
    audit = as_org.page("/dashboard/audit?action=extension")
    assert "同意延期" in audit and "工作台" in audit and "2026-11-20 → 2026-11-27" in audit
    # the chat sees the same deadline
    assert "11月27日" in wecom.say(SECRETARY, "任务")
    # past the task's deadline: ZB0001 is still open (its own deadline), ZB0002 overdue
    accounts.clock.advance(days=7)
    _data, cells = matrix(Client(app, ORG))
    assert cells["ZB0001"][task.number] == ["o"] and cells["ZB0002"][task.number] == ["x"]


def test_a_refusal_keeps_the_deadline_and_gives_the_reason(as_org, wecom, accounts):
    task = publish(wecom, accounts)
    request = ask(wecom, accounts, task)
    page = flash_after(as_org, decide(as_org, task, request, "refuse", reason="材料已齐，请按期完成"))
    assert "已不同意" in page and "延期7天 未同意" in page
    assert own_deadline(accounts, task) is None and state_of(accounts, request) == "refused"
    rows = told(accounts, request)
    assert len(rows) == 2 and all("延期未同意" in b and "原因：材料已齐，请按期完成" in b for _, b in rows)
    [entry] = audit_rows(accounts)
    assert entry.action == "extension-refused" and entry.channel == "web" and "材料已齐" in entry.detail
    assert "不同意延期" in as_org.page("/dashboard/audit")


def test_a_reason_too_long_is_refused_and_nothing_is_decided(as_org, wecom, accounts):
    task = publish(wecom, accounts)
    request = ask(wecom, accounts, task)
    page = flash_after(as_org, decide(as_org, task, request, "refuse", reason="长" * 201))
    assert "不同意的原因最多 200 字，未做任何处理" in page
    assert state_of(accounts, request) == "pending" and not audit_rows(accounts) and not told(accounts, request)
    assert decide(as_org, task, request, "maybe").status_code == 400
    assert state_of(accounts, request) == "pending"


def test_who_may_not_decide_sees_the_state_only_and_a_forged_post_changes_nothing(
        as_org, as_committee, as_secretary, wecom, accounts, app):
    task = publish(wecom, accounts)               # the org department's task
    request = ask(wecom, accounts, task)
    form = f'action="/dashboard/tasks/{task.id}/extensions/{request.id}"'
    page = as_committee.page(f"/dashboard/tasks/{task.id}")  # ZB0001 is in the committee's subtree
    assert "延期7天 待审核" in page and "由发布任务的单位审批" in page and form not in page
    page = as_secretary.page(f"/dashboard/tasks/{task.id}")
    assert "延期7天 待审核" in page and form not in page
    refused = decide(as_committee, task, request)
    assert refused.status_code == 403 and "不能审核延期申请" in refused.get_data(as_text=True)
    assert decide(as_secretary, task, request).status_code == 403
    assert decide(as_secretary, task, request, "refuse", reason="x").status_code == 403
    # another subtree's branch's request is not there at all for the committee
    add_account(accounts, FAR_SECRETARY)
    far = ask(wecom, accounts, task, FAR_SECRETARY)
    assert decide(as_committee, task, far).status_code == 404
    assert decide(as_org, task, type("R", (), {"id": 999_999})()).status_code == 404
    other = publish(wecom, accounts, title="另一项任务")
    assert decide(as_org, other, request).status_code == 404  # the request is not this task's
    assert {state_of(accounts, r) for r in (request, far)} == {"pending"}
    assert own_deadline(accounts, task) is None and not audit_rows(accounts)
    assert not told(accounts, request) and not told(accounts, far)


def test_the_committee_decides_for_a_task_it_published(as_committee, as_org, wecom, accounts):
    task = publish(wecom, accounts, by=COMMITTEE)  # 县直机关工委's own task, to its 6 branches
    request = ask(wecom, accounts, task)
    assert f'/extensions/{request.id}"' in as_committee.page(f"/dashboard/tasks/{task.id}")
    assert "已同意" in flash_after(as_committee, decide(as_committee, task, request))
    assert own_deadline(accounts, task) == date(2026, 11, 27)
    [entry] = audit_rows(accounts)
    assert entry.unit_code == "DW01" and entry.channel == "web"


def test_deciding_twice_says_so_and_acts_once(as_org, wecom, accounts):
    task = publish(wecom, accounts)
    request = ask(wecom, accounts, task)
    decide(as_org, task, request)
    page = flash_after(as_org, decide(as_org, task, request, "refuse", reason="改主意"))
    assert f"的延期申请（编号 {request.id}）已处理过：已同意" in page
    assert "已处理过：已同意" in wecom.say(ORG, f"不同意延期 {request.id}")  # and in chat
    assert state_of(accounts, request) == "granted" and own_deadline(accounts, task) == date(2026, 11, 27)
    assert len(audit_rows(accounts)) == 1 and len(told(accounts, request)) == 2


def test_a_post_without_the_csrf_token_is_refused(as_org, wecom, accounts):
    task = publish(wecom, accounts)
    request = ask(wecom, accounts, task)
    response = as_org.post(f"/dashboard/tasks/{task.id}/extensions/{request.id}", {"decision": "grant"},
                           token=False)
    assert response.status_code == 400
    assert state_of(accounts, request) == "pending" and not audit_rows(accounts) and not told(accounts, request)


def test_the_deciders_card_answers_a_later_click_with_the_web_decision(as_org, wecom, accounts, standin, worker):
    task = publish(wecom, accounts)
    request = ask(wecom, accounts, task)
    worker.drain()
    [card] = cards_to(standin, ORG)
    assert [b["text"] for b in card["button_list"]] == ["同意", "不同意"]
    decide(as_org, task, request)
    press(wecom, standin, ORG, card, "不同意")
    worker.drain()
    assert any(f"（编号 {request.id}）已处理过：已同意" in t for t in texts_to(standin, ORG))
    assert updates_to(standin, ORG)[-1]["button"] == {"replace_name": "已同意"}
    assert state_of(accounts, request) == "granted" and len(audit_rows(accounts)) == 1


def test_the_overview_lists_what_waits_for_a_decision(as_org, as_committee, wecom, accounts, app):
    task = publish(wecom, accounts)
    request = ask(wecom, accounts, task)
    link = f'href="/dashboard/tasks/{task.id}#extension-{request.id}"'
    page = as_org.page("/dashboard/")
    assert "待审批的延期申请（1）" in page and link in page and "去审批" in page and "冬季走访困难党员" in page
    page = as_committee.page("/dashboard/")
    assert "待审批的延期申请（1）" in page and "由发布单位审批" in page and "去审批" not in page
    assert "待审批的延期申请" not in Client(app, OTHER_SECRETARY).page("/dashboard/")  # ZB0002's own scope
    decide(as_org, task, request)
    assert "待审批的延期申请" not in as_org.page("/dashboard/")
    assert re.search(r'id="extension-\d+"', as_org.page(f"/dashboard/tasks/{task.id}")) is None


def test_a_decision_made_meanwhile_is_seen_not_overwritten(server_db_url, tmp_path):
    """PostgreSQL and MariaDB: while another decider holds the request (their
    decision not yet committed), the page waits for it and then says it is
    decided, instead of deciding it a second time over the first."""
    from bot.web import create_app
    from storage.cards import extension_to_decide, request_extension
    from storage.db import transaction
    from tests.conftest import load_county, make_runtime
    rt = load_county(make_runtime(server_db_url, tmp_path))
    try:
        add_account(rt, ORG)
        with transaction(rt.sessions) as s:
            task = s.scalar(select(Task).where(Task.number == 1, Task.month == "2026-11"))
            branch = s.scalar(select(Organization).where(Organization.code == "ZB0001"))
            secretary = s.scalar(select(Member).where(Member.wecom_userid == SECRETARY))
            request, _ = request_extension(s, task, branch, secretary.id, 7, "", rt.clock.now())
            s.expunge_all()
        client = Client(create_app(runtime=rt), ORG)
        answer = {}
        with transaction(rt.sessions) as s:
            held = extension_to_decide(s, request.id)  # another decider, mid-decision
            thread = threading.Thread(target=lambda: answer.update(r=decide(client, task, request)))
            thread.start()
            time.sleep(1.0)
            held.state, held.decided_at = "refused", rt.clock.now()
        thread.join(30)
        page = flash_after(client, answer["r"])
        assert "已处理过：已不同意" in page
        assert state_of(rt, request) == "refused" and own_deadline(rt, task) is None and not audit_rows(rt)
    finally:
        rt.engine.dispose()
