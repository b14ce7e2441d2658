"""The workbench's task, report, branch and evidence pages: return and
chase go through the chat commands' functions (same rules, messages and
audit rows); photos inline, files as downloads; masked phone numbers."""
import hashlib

from sqlalchemy import select

from bot.wecom.media import fetch_pending
from storage.models import AuditEntry, Delivery
from tests.wecom_peer import media_xml
from tests.workbench import (COMMITTEE, SECRETARY, Client, accounts, add_account, app, as_committee,  # noqa: F401
                             as_org, as_secretary)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def rows(rt, model, *where):
    with rt.sessions() as s:
        return list(s.scalars(select(model).where(*where).order_by(model.id)))


def test_the_task_page_lists_every_branch_in_scope(as_org, as_committee, wecom):
    wecom.say(SECRETARY, "完成 1 已排查，无软弱涣散")
    page = as_org.page("/dashboard/tasks/1")
    assert "排查软弱涣散基层党组织" in page and page.count("/dashboard/tasks/1/ZB") == 36
    assert "已排查，无软弱涣散" in page and "催办未上报的 35 个支部" in page
    committee = as_committee.page("/dashboard/tasks/1")
    assert committee.count("/dashboard/tasks/1/ZB") == 6 and "ZB0004" not in committee


def test_return_from_the_web_is_the_chat_commands_return(as_org, accounts, wecom, worker, standin):
    wecom.say(SECRETARY, "完成 1 已排查")
    response = as_org.post("/dashboard/tasks/1/ZB0001/return", {"reason": "缺少排查表"})
    assert response.status_code == 302
    page = as_org.page(response.headers["Location"])
    assert "已退回县财政局机关党支部的上报" in page and "退回原因：缺少排查表" in page
    (sent,) = rows(accounts, Delivery, Delivery.purpose.like("return-%"))
    assert sent.target == "org:ZB0001" and "原因：缺少排查表" in sent.body and "完成 1 说明" in sent.body
    (entry,) = rows(accounts, AuditEntry, AuditEntry.action == "return")
    assert entry.channel == "web" and entry.who == "余刚永（s7001）" and "ZB0001" in entry.detail
    again = as_org.post("/dashboard/tasks/1/ZB0001/return", {"reason": "再退一次"})
    assert "还没有上报第1项，无需退回" in as_org.page(again.headers["Location"])  # the chat rule's words
    assert "被退回" in wecom.say(SECRETARY, "任务")


def test_return_needs_a_reason_and_the_org_department(as_org, as_committee, wecom):
    wecom.say(SECRETARY, "完成 1 已排查")
    empty = as_org.post("/dashboard/tasks/1/ZB0001/return", {"reason": "  "})
    assert "请写明退回原因" in as_org.page(empty.headers["Location"])
    assert as_committee.post("/dashboard/tasks/1/ZB0001/return", {"reason": "x"}).status_code == 403
    assert "退回，要求重报" not in as_committee.page("/dashboard/tasks/1/ZB0001")


def test_chase_from_the_web_is_the_chat_commands_chase(as_committee, accounts, wecom):
    wecom.say(SECRETARY, "完成 1 已排查")
    response = as_committee.post("/dashboard/tasks/1/chase")
    assert "已催办 5 个支部" in as_committee.page(response.headers["Location"])
    chased = rows(accounts, Delivery, Delivery.purpose == "chase-1")
    groups = {d.target for d in chased if d.target.startswith("org:")}
    assert groups == {"org:ZB0002", "org:ZB0012", "org:ZB0028", "org:ZB0030", "org:ZB0033"}
    assert "member:u700012" in {d.target for d in chased}  # ZB0002's secretary: a card (SPEC: 催办)
    again = as_committee.post("/dashboard/tasks/1/chase")
    assert "今天已催办过" in as_committee.page(again.headers["Location"])
    assert "今天已催办过" in wecom.say(COMMITTEE, "催办 1")  # chat and web share the day's chase
    assert [e.channel for e in rows(accounts, AuditEntry, AuditEntry.action == "chase")] == ["web", "web", "chat"]


def test_a_secretary_sees_their_own_report_and_nothing_else(as_secretary, wecom):
    wecom.say(SECRETARY, "完成 1 已排查")
    page = as_secretary.page("/dashboard/tasks/1")
    assert page.count("/dashboard/tasks/1/ZB") == 1 and "催办未上报" not in page
    assert as_secretary.get("/dashboard/tasks/1/ZB0002").status_code == 404
    assert as_secretary.post("/dashboard/tasks/1/chase").status_code == 403


def test_evidence_photos_inline_and_files_as_downloads(as_org, as_committee, accounts, wecom, standin, worker):
    standin.add_media("MEDIA_p", PNG, "会议照片.png")
    standin.add_media("MEDIA_f", b"%PDF-1.4 table", "排查表.pdf")
    standin.add_media("MEDIA_s", b"<svg onload=alert(1)>", "x.jpg")
    wecom.say(SECRETARY, "完成 1 已排查")
    for media in ("MEDIA_p", "MEDIA_f", "MEDIA_s"):
        wecom.post(media_xml(SECRETARY, "image" if media != "MEDIA_f" else "file", media))
    assert fetch_pending(accounts, worker.client) == 3
    page = as_org.page("/dashboard/tasks/1/ZB0001")
    assert hashlib.sha256(PNG).hexdigest() in page and '<img src="/dashboard/evidence/1"' in page
    photo = as_org.get("/dashboard/evidence/1")
    assert photo.status_code == 200 and photo.content_type == "image/png" and photo.data == PNG
    pdf = as_org.get("/dashboard/evidence/2")
    assert pdf.headers["Content-Disposition"].startswith("attachment") and pdf.content_type == "application/pdf"
    fake = as_org.get("/dashboard/evidence/3")  # says .jpg, is markup: never shown inline
    assert fake.headers["Content-Disposition"].startswith("attachment")
    assert fake.content_type == "application/octet-stream"
    assert as_committee.get("/dashboard/evidence/1").status_code == 200
    assert as_org.get("/dashboard/evidence/99").status_code == 404


def test_evidence_and_pages_of_another_subtree_are_404(app, accounts, wecom, standin, worker):
    add_account(accounts, "s7006")  # 城关镇党委 (DW02): ZB0001 is 县直机关工委's
    standin.add_media("MEDIA_p", PNG, "p.png")
    wecom.say(SECRETARY, "完成 1 已排查")
    wecom.post(media_xml(SECRETARY, "image", "MEDIA_p"))
    fetch_pending(accounts, worker.client)
    other = Client(app, "s7006")
    for url in ("/dashboard/evidence/1", "/dashboard/tasks/1/ZB0001", "/dashboard/branches/ZB0001",
                "/dashboard/ledger.xlsx?branch=ZB0001"):
        assert other.get(url).status_code == 404, url
    assert other.post("/dashboard/tasks/1/ZB0001/return", {"reason": "x"}).status_code == 403
    assert Client(app, COMMITTEE).get("/dashboard/evidence/1").status_code == 200


def test_the_branch_page_masks_phones_unless_the_org_department_asks(as_org, as_committee, as_secretary, accounts):
    page = as_secretary.page("/dashboard/branches/ZB0001")
    assert "180****6691" in page and "18075006691" not in page and "显示完整手机号" not in page
    assert "180****6691" in as_committee.page("/dashboard/branches/ZB0001?phones=1")  # not theirs to ask
    assert "180****6691" in as_org.page("/dashboard/branches/ZB0001")
    full = as_org.page("/dashboard/branches/ZB0001?phones=1")
    assert "18075006691" in full
    (entry,) = rows(accounts, AuditEntry, AuditEntry.action == "view-phones")
    assert entry.target == "ZB0001 县财政局机关党支部" and entry.who == "余刚永（s7001）"


def test_the_branch_page_shows_the_ledger_with_its_marks(as_secretary, wecom, accounts):
    assert "已记录" in wecom.say(SECRETARY, "会议 支委会 2026-11-02 学习")  # 14 days before: 补记录
    wecom.say(SECRETARY, "完成 1 已排查")
    page = as_secretary.page("/dashboard/branches/ZB0001")
    assert "补记录（会后 14 天登记）" in page and "排查软弱涣散基层党组织" in page
    assert "/dashboard/ledger.xlsx?branch=ZB0001" in page
    assert "流动党员签到" in page


# ---- the overview's actions and signals (issue 11) -----------------------------------

def overview_codes(page: str, section: str) -> set[str]:
    """The branch codes listed in one of the overview's sections."""
    import re
    part = page.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]
    return set(re.findall(r"<td>(ZB[0-9]{4})</td>", part))


def test_retry_puts_a_failed_delivery_back_in_the_queue_and_is_audited(as_org, accounts, standin, worker, wecom):
    from tests.conftest import set_group_address
    set_group_address(accounts, "ZB0002", "bad-key")
    wecom.say("s7001", "催办 1")
    worker.drain()
    [failed] = rows(accounts, Delivery, Delivery.state == "failed")
    assert failed.target == "org:ZB0002" and failed.last_error
    assert f"/dashboard/deliveries/{failed.id}/retry" in as_org.page("/dashboard/")
    response = as_org.post(f"/dashboard/deliveries/{failed.id}/retry")
    assert response.status_code == 302 and "已重新排队发送" in as_org.page(response.headers["Location"])
    [again] = rows(accounts, Delivery, Delivery.id == failed.id)
    assert again.state == "pending" and again.due_at == accounts.clock.now()
    [entry] = rows(accounts, AuditEntry, AuditEntry.action == "retry-delivery")
    assert entry.channel == "web" and entry.target.startswith("org:ZB0002") and failed.last_error in entry.detail
    from storage.db import transaction
    with transaction(accounts.sessions) as s:  # sent meanwhile: nothing to retry, and no row
        s.get(Delivery, failed.id).state = "sent"
    twice = as_org.post(f"/dashboard/deliveries/{failed.id}/retry")
    assert "无需重发" in as_org.page(twice.headers["Location"])
    assert len(rows(accounts, AuditEntry, AuditEntry.action == "retry-delivery")) == 1


def test_closing_an_account_is_audited(app, accounts):
    from click.testing import CliRunner

    from bot.cli import cli
    assert CliRunner().invoke(cli, ["add-admin", "s7001", "--close"], obj=accounts).exit_code == 0
    [entry] = rows(accounts, AuditEntry, AuditEntry.action == "account-closed")
    assert entry.channel == "cli" and "s7001" in entry.target


def test_the_overview_shows_the_scheduler_heartbeat(as_org, accounts):
    from datetime import timedelta

    from storage.db import transaction
    from storage.models import Lease
    assert "定时任务：<span class=\"warn\">从未运行</span>" in as_org.page("/dashboard/")
    now = accounts.clock.now()
    with transaction(accounts.sessions) as s:
        s.add(Lease(name="scheduler", holder="host-a:4242", expires_at=now + timedelta(seconds=30)))
    page = as_org.page("/dashboard/")
    assert ">运行中</span>" in page and "host-a:4242，心跳有效至" in page
    with transaction(accounts.sessions) as s:
        s.get(Lease, "scheduler").expires_at = now - timedelta(minutes=5)  # the scheduler stopped beating
    page = as_org.page("/dashboard/")
    assert ">已停止</span>" in page and ">运行中</span>" not in page


def test_the_overview_warns_of_a_year_without_holiday_data(as_org, accounts):
    from datetime import datetime

    from storage.workdays import is_known_year
    assert not is_known_year(2040)
    accounts.clock.at = datetime(2040, 3, 12, 10, 0)
    as_org.sign_in("s7001")  # the session ended over the years
    assert "节假日数据不含 2040 年" in as_org.page("/dashboard/")
    known = next(y for y in range(2024, 2030) if is_known_year(y))
    accounts.clock.at = datetime(known, 3, 12, 10, 0)
    as_org.sign_in("s7001")
    assert f"节假日数据不含 {known} 年" not in as_org.page("/dashboard/")


def test_the_overview_lists_the_branches_with_overdue_tasks(as_org, as_committee, accounts, wecom):
    assert overview_codes(as_org.page("/dashboard/"), "overdue") == set()  # 11-16: nothing due yet
    wecom.say(SECRETARY, "完成 1 已排查")   # ZB0001
    wecom.say("u700012", "完成 1 已排查")   # ZB0002
    accounts.clock.advance(days=12)        # 11-28: task 1 (due 11-27) is overdue for the other 34
    as_org.sign_in("s7001")
    listed = overview_codes(as_org.page("/dashboard/"), "overdue")
    assert len(listed) == 34 and not {"ZB0001", "ZB0002"} & listed
    as_committee.sign_in(COMMITTEE)
    assert overview_codes(as_committee.page("/dashboard/"), "overdue") == {"ZB0012", "ZB0028", "ZB0030", "ZB0033"}
