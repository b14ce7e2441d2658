"""WeCom sign-in (OAuth, WECOM.md §7) against the stand-in: the QR page on a
desktop, the authorize page inside WeCom, then auth/getuserinfo. Staff
need no password; whoever the roster does not allow is refused."""
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import cli
from bot.config import load_config
from bot.web import create_app
from storage.models import Account, AuditEntry
from tests.workbench import Client, accounts  # noqa: F401


@pytest.fixture
def app(accounts, standin):
    base = standin.api_base.removesuffix("cgi-bin/")
    accounts.config = load_config(environ={}, use_file=False, overrides={
        **accounts.config.values, "wecom.oauth_url": base + "connect/oauth2/authorize",
        "wecom.sso_url": base + "wwlogin/sso/login", "dashboard.public_url": "http://workbench.test"})
    return create_app(runtime=accounts)


def wecom_sign_in(client, standin, user, agent="Mozilla/5.0 Chrome/156"):
    """Click 企业微信登录, "scan" at the stand-in as `user`, come back."""
    standin.sign_in_as(user)
    start = client.get("/dashboard/login/wecom", headers={"User-Agent": agent})
    assert start.status_code == 302
    at_wecom = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    back = urlparse(at_wecom.headers["Location"])
    assert back.netloc == "workbench.test" and back.path == "/dashboard/login/wecom/return"
    return client.get(f"{back.path}?{back.query}"), start.headers["Location"]


def audit(rt, action):
    with rt.sessions() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_the_sign_in_page_offers_wecom_where_it_is_configured(app, accounts):
    assert "企业微信登录" in Client(app).page("/dashboard/login")
    plain = create_app(runtime=type(accounts)(load_config(environ={}, use_file=False, overrides={
        "database.url": accounts.config["database.url"]}), accounts.engine, accounts.sessions, accounts.clock))
    assert "企业微信登录" not in Client(plain).page("/dashboard/login")
    assert Client(plain).get("/dashboard/login/wecom").status_code == 404


def test_staff_sign_in_with_wecom_and_no_password(app, accounts, standin):
    client = Client(app)
    done, went = wecom_sign_in(client, standin, "s7008")  # 河口镇党委: no account yet
    assert "wwlogin/sso/login" in went and "login_type=CorpApp" in went
    query = parse_qs(urlparse(went).query)
    assert query["appid"] == ["wwzhibu0000000001"] and query["agentid"] == ["1000002"]
    assert query["redirect_uri"] == ["http://workbench.test/dashboard/login/wecom/return"]
    assert done.status_code == 302 and done.headers["Location"] == "/dashboard/"
    page = client.page("/dashboard/")
    assert "河口镇党委" in page and "唐东永" in page
    (created,) = audit(accounts, "account-created")
    assert created.detail == "企业微信首次登录" and created.target == "唐东永（s7008）"
    with accounts.sessions() as s:
        assert s.scalar(select(Account.password_hash).where(Account.member_id == created.member_id)) is None
    assert audit(accounts, "sign-in")[-1].detail == "企业微信"


def test_inside_wecom_the_authorize_page_is_used(app, standin):
    done, went = wecom_sign_in(Client(app), standin, "s7001", agent="Mozilla/5.0 wxwork/4.1.0 MicroMessenger")
    assert "connect/oauth2/authorize" in went and went.endswith("#wechat_redirect")
    assert "scope=snsapi_base" in went and done.status_code == 302


@pytest.mark.parametrize("user, message", [("u700002", "你的职务不能使用工作台"), ("nobody", "名册中没有你的企业微信账号")])
def test_wecom_sign_in_of_someone_the_roster_does_not_allow_is_refused(app, accounts, standin, user, message):
    client = Client(app)
    done, _ = wecom_sign_in(client, standin, user)
    assert done.status_code == 403 and message in done.get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 302
    assert audit(accounts, "sign-in-refused")


def test_a_forged_or_replayed_return_is_refused(app, accounts, standin):
    client = Client(app)
    assert client.get("/dashboard/login/wecom/return?code=x&state=guess").status_code == 400
    standin.register_code("code-1", "s7001")
    client.get("/dashboard/login/wecom")  # a real state in the session, but a code from elsewhere
    state = None
    with client.http.session_transaction("/dashboard/") as session:
        state = session["oauth_state"]
    first = client.get(f"/dashboard/login/wecom/return?code=code-1&state={state}")
    assert first.status_code == 302
    client.post("/dashboard/logout")
    client.get("/dashboard/login/wecom")
    with client.http.session_transaction("/dashboard/") as session:
        state = session["oauth_state"]
    replay = client.get(f"/dashboard/login/wecom/return?code=code-1&state={state}")  # one use only
    assert replay.status_code == 403 and "企业微信登录未成功" in replay.get_data(as_text=True)
    assert "40029" in audit(accounts, "sign-in-failed")[-1].detail


def test_a_closed_account_cannot_come_back_through_wecom(app, accounts, standin):
    CliRunner().invoke(cli, ["add-admin", "s7001", "--close"], obj=accounts)
    done, _ = wecom_sign_in(Client(app), standin, "s7001")
    assert done.status_code == 403 and "账号已停用" in done.get_data(as_text=True)
