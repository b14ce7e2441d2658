"""The workbench's sign-in and what each person sees: accounts from
add-admin, passwords, lockouts, sessions, CSRF, scope, the audit log."""
import io
import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import cli
from bot.config import ConfigError, load_config
from bot.web import create_app
from handlers.render import mask_id_number, mask_phone
from storage.models import Account, AuditEntry
from tests.conftest import set_group_address
from tests.workbench import (COMMITTEE, ORG, PASSWORD, SECRETARY, Client, accounts, add_account, app,  # noqa: F401
                             as_committee, as_org, as_secretary)


def progress_codes(page):
    return set(re.findall(r"<td>(ZB\d{4})</td><td>\d+/\d+", page))


def audit_rows(rt, action=None):
    with rt.sessions() as s:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return list(s.scalars(query))


# ---- signed out ------------------------------------------------------------

@pytest.mark.parametrize("url", ["/dashboard/", "/dashboard/ledger.xlsx", "/dashboard/bulletin", "/dashboard/audit",
                                 "/dashboard/downloads", "/dashboard/bulletin.xlsx?month=2026-11"])
def test_signed_out_every_page_goes_to_the_sign_in_page(app, url):
    response = app.test_client().get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dashboard/login?next=/dashboard/")


def test_http_basic_is_gone(app):
    import base64
    basic = {"Authorization": "Basic " + base64.b64encode(f"{ORG}:{PASSWORD}".encode()).decode()}
    assert app.test_client().get("/dashboard/", headers=basic).status_code == 302


def test_the_removed_shared_password_stops_start_up_with_what_to_do():
    with pytest.raises(ConfigError, match="add-admin"):
        load_config(environ={"ZHIBU_DASHBOARD__PASSWORD": "x"}, use_file=False)


# ---- signing in --------------------------------------------------------------

def test_sign_in_lands_on_the_overview_and_is_audited(app, accounts):
    client = Client(app)
    response = client.sign_in(ORG, next_url="/dashboard/audit")
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/audit"
    assert "中共某某县委组织部" in client.page("/dashboard/")
    (row,) = audit_rows(accounts, "sign-in")
    assert row.who == "余刚永（s7001）" and row.channel == "web" and row.address == "127.0.0.1"


def test_a_next_address_off_the_workbench_is_not_followed(app):
    client = Client(app)
    for bad in ("https://evil.example/", "//evil.example/x", "/wecom/callback"):
        assert client.sign_in(ORG, next_url=bad).headers["Location"] == "/dashboard/"
        client.post("/dashboard/logout")


def test_a_wrong_password_says_how_many_tries_are_left(app, accounts):
    page = Client(app).sign_in(ORG, "wrong-password").get_data(as_text=True)
    assert "企业微信账号或密码不正确。再错 4 次将锁定 15 分钟。" in page
    (row,) = audit_rows(accounts, "sign-in-failed")
    assert row.target == ORG and "账号连续错 1 次" in row.detail


def test_an_unknown_user_is_told_the_same_as_a_wrong_password(app):
    page = Client(app).sign_in("nobody", "wrong-password").get_data(as_text=True)
    assert "企业微信账号或密码不正确" in page


@pytest.mark.parametrize("user", ["s7001\x00", "x" * 65, "s70\x7f01"])
def test_a_user_name_no_wecom_id_could_be_is_refused_not_looked_up(app, user):
    client = Client(app)
    assert client.sign_in(user).status_code == 200
    assert client.get("/dashboard/").status_code == 302


def test_five_wrong_passwords_lock_the_account_for_15_minutes(app, accounts):
    client = Client(app)
    for _ in range(4):
        assert client.sign_in(ORG, "wrong-password").status_code == 200
    locked = client.sign_in(ORG, "wrong-password")
    assert locked.status_code == 429 and "已锁定 15 分钟" in locked.get_data(as_text=True)
    refused = client.sign_in(ORG)  # the right password, during the lock
    assert refused.status_code == 429 and "已锁定" in refused.get_data(as_text=True)
    assert [r.action for r in audit_rows(accounts)][-2:] == ["sign-in-locked", "sign-in-refused"]
    accounts.clock.advance(minutes=15, seconds=1)
    assert client.sign_in(ORG).status_code == 302


def test_five_wrong_passwords_from_one_address_lock_that_address(app, accounts):
    """Trying one password on many accounts is stopped too — loopback included."""
    client = Client(app)
    for user in ("s7002", "s7003", "s7005", "s7006", "s7007"):
        client.sign_in(user, "wrong-password")
    assert client.sign_in(COMMITTEE).status_code == 429  # another account, right password: the address is locked
    assert Client(app, address="10.1.2.3").sign_in(COMMITTEE).status_code == 302  # from elsewhere: fine
    assert audit_rows(accounts, "sign-in-locked")[0].address == "127.0.0.1"


def test_a_plain_member_cannot_sign_in_even_with_an_account(app, accounts):
    add_account(accounts, "u700002")  # 党员 of ZB0001: no add-admin would make this
    response = Client(app).sign_in("u700002")
    assert response.status_code == 403 and "你的职务不能使用工作台" in response.get_data(as_text=True)


# ---- sessions and CSRF -----------------------------------------------------------

def test_a_session_ends_after_the_idle_time(app, accounts, as_org):
    assert as_org.get("/dashboard/").status_code == 200
    accounts.clock.advance(minutes=29)
    assert as_org.get("/dashboard/").status_code == 200  # each request renews it
    accounts.clock.advance(minutes=31)
    response = as_org.get("/dashboard/")
    assert response.status_code == 302 and "expired=1" in response.headers["Location"]
    assert "登录已超时" in as_org.get(response.headers["Location"]).get_data(as_text=True)


def test_a_new_password_ends_the_sessions_signed_in_before(app, accounts, as_org):
    result = CliRunner().invoke(cli, ["add-admin", ORG], input="another-pass-1\n", obj=accounts)
    assert result.exit_code == 0 and "已重设密码" in result.output
    assert as_org.get("/dashboard/").status_code == 302
    assert Client(app).sign_in(ORG, "another-pass-1").status_code == 302


def test_forms_without_the_csrf_token_are_refused_in_chinese(app, as_org):
    for url in ("/dashboard/logout", "/dashboard/login"):
        response = as_org.post(url, {"userid": ORG, "password": PASSWORD}, token=False)
        assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
        assert "表单已失效" in response.get_data(as_text=True)
    assert as_org.get("/dashboard/").status_code == 200  # still signed in: the logout was refused
    wrong = as_org.http.post("/dashboard/logout", data={"csrf_token": "forged"})
    assert wrong.status_code == 400


def test_cookies_are_http_only_same_site_and_only_for_the_workbench(app):
    response = Client(app).sign_in(ORG)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/dashboard" in cookie


def test_sign_out(app, accounts, as_org):
    assert as_org.post("/dashboard/logout").status_code == 302
    assert as_org.get("/dashboard/").status_code == 302
    assert audit_rows(accounts)[-1].action == "sign-out"


# ---- add-admin ---------------------------------------------------------------

def test_add_admin_reads_the_password_from_standard_input(wired):
    runner = CliRunner()
    short = runner.invoke(cli, ["add-admin", "s7002"], input="short\n", obj=wired)
    assert "至少 8 个字符" in str(short.exception) and not audit_rows(wired)
    done = runner.invoke(cli, ["add-admin", "s7002"], input="long-enough-1\n", obj=wired)
    assert done.exit_code == 0 and "已开通 邱明明（s7002）" in done.output and "全县" in done.output
    with wired.sessions() as s:
        account = s.scalar(select(Account))
        assert account.password_hash.startswith("$argon2id$") and "long-enough" not in account.password_hash
    (row,) = audit_rows(wired, "account-created")
    assert row.channel == "cli" and row.target == "邱明明（s7002）"


@pytest.mark.parametrize("userid, why", [("u700002", "不能使用工作台"), ("nobody", "名册中没有")])
def test_add_admin_refuses_who_may_not_use_the_workbench(wired, userid, why):
    result = CliRunner().invoke(cli, ["add-admin", userid], input="long-enough-1\n", obj=wired)
    assert why in str(result.exception)


def test_add_admin_close_ends_the_account(app, accounts, as_org):
    result = CliRunner().invoke(cli, ["add-admin", ORG, "--close"], obj=accounts)
    assert result.exit_code == 0 and "已停用" in result.output
    assert as_org.get("/dashboard/").status_code == 302
    assert Client(app).sign_in(ORG).status_code == 200  # refused: the form again


# ---- what each person sees ------------------------------------------------------

def test_org_department_sees_every_branch_and_failed_deliveries(accounts, as_org, standin, worker, wecom):
    set_group_address(accounts, "ZB0002", "bad-key")
    wecom.say(ORG, "催办 1")
    worker.drain()
    page = as_org.page("/dashboard/")
    assert "中共某某县委组织部" in page and len(progress_codes(page)) == 36
    assert "93000" in page and "chase-" in page


def test_committee_sees_only_its_branches(as_committee):
    page = as_committee.page("/dashboard/")
    assert "县直机关工委" in page and len(progress_codes(page)) == 6 and "ZB0004" not in page


def test_a_secretary_sees_only_their_branch(as_secretary):
    page = as_secretary.page("/dashboard/")
    assert progress_codes(page) == {"ZB0001"} and "审计日志" not in page


def test_ledger_download_is_scoped(as_committee, as_secretary, wecom):
    wecom.say(SECRETARY, "完成 1 已排查")
    response = as_committee.get("/dashboard/ledger.xlsx?from=2026-11&to=2026-11")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert len(book.sheetnames) == 13 and book.sheetnames[1].startswith("ZB0001")  # 6 branches × (records, members)
    assert as_committee.get("/dashboard/ledger.xlsx?from=2026-13").status_code == 400
    assert as_committee.get("/dashboard/ledger.xlsx?branch=ZB0004").status_code == 404  # another subtree's
    own = load_workbook(io.BytesIO(as_secretary.get("/dashboard/ledger.xlsx?from=2026-11&to=2026-11").data))
    assert own.sheetnames[1:] == ["ZB0001 县财政局机关党支部", "党员简历 ZB0001"]
    assert as_secretary.get("/dashboard/ledger.xlsx?branch=ZB0002").status_code == 404


def test_bulletin_page(accounts, as_org, as_secretary):
    text = as_org.page("/dashboard/bulletin?month=2026-11")
    assert "2026年11月基层党建重点工作完成情况的通报" in text
    assert as_secretary.get("/dashboard/bulletin?month=2026-11").status_code == 403
    book = load_workbook(io.BytesIO(as_org.get("/dashboard/bulletin.xlsx?month=2026-11").data))
    assert len(book.sheetnames) >= 3
    assert [r.target for r in audit_rows(accounts, "export")] == ["通报", "通报"]


def test_the_audit_page_is_the_org_departments(accounts, as_org, as_committee, as_secretary, wecom):
    wecom.say(COMMITTEE, "催办 1")  # a change made in chat is in the same log
    assert as_committee.get("/dashboard/audit").status_code == 403
    assert as_secretary.get("/dashboard/audit").status_code == 403
    page = as_org.page("/dashboard/audit")
    assert "催办" in page and "闫杰（s7004）" in page and "企业微信" in page
    chase = audit_rows(accounts, "chase")[0]
    assert chase.channel == "chat" and chase.unit_code == "DW01" and "ZB0001" in chase.detail
    filtered = as_org.page("/dashboard/audit?action=sign-in")
    assert "催办" not in filtered.split("<tbody>")[1]


def test_phone_and_id_numbers_are_masked():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("") == "" and mask_phone(None) == ""
    assert mask_id_number("110105199001011234") == "110105********1234"


def test_pages_are_marked_not_to_be_cached_and_allow_only_own_scripts(as_org):
    response = as_org.get("/dashboard/")
    assert response.headers["Cache-Control"] == "no-store"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_a_session_outlives_no_more_than_12_hours(accounts, as_org):
    start = accounts.clock.now()
    while as_org.get("/dashboard/").status_code == 200:  # active all day, a request every 29 minutes
        accounts.clock.advance(minutes=29)
    assert timedelta(hours=12) < accounts.clock.now() - start <= timedelta(hours=12, minutes=29)


def test_forms_work_over_https_without_a_referer(accounts):
    """Behind TLS the browser sends no Referer (Referrer-Policy: no-referrer): the token must suffice."""
    accounts.config = load_config(environ={}, use_file=False,
                                  overrides={**accounts.config.values, "dashboard.secure_cookie": True})
    http, https = create_app(runtime=accounts).test_client(), "https://workbench.test/"
    page = http.get("/dashboard/login", base_url=https).get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)[1]
    response = http.post("/dashboard/login", base_url=https,
                         data={"csrf_token": token, "userid": ORG, "password": PASSWORD})
    assert response.status_code == 302 and "Secure" in response.headers["Set-Cookie"]
    assert http.get("/dashboard/", base_url=https).status_code == 200
