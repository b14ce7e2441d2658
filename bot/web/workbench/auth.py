"""Signing in and out: a password (accounts from `add-admin`), or WeCom
OAuth (WECOM.md §7: the authorize page inside WeCom, the QR page in a
desktop browser, then `auth/getuserinfo` → the WeCom id).

Five wrong passwords for one account, or from one client address, within
15 minutes lock that account or address for 15 minutes — loopback
included (SPEC) — and each failure and lock is in the audit log. A wrong
user id costs the same time as a wrong password."""
from __future__ import annotations

import hmac
import logging
import secrets
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from bot.web.workbench.access import csrf, is_safe_next, now, origin, runtime, session_alive
from bot.web.workbench.passwords import MAX_LENGTH, verify
from bot.web.workbench.user import WorkbenchUser
from storage import audit
from storage.accounts import (LOCK_AFTER, clear_failures, holder_by_userid, holder_of, locked_until, open_account,
                              record_failure, signed_in)
from storage.db import transaction

log = logging.getLogger(__name__)
blueprint = Blueprint("wb_auth", __name__, url_prefix="/dashboard", template_folder="../templates")
NOT_ALLOWED = "你的职务不能使用工作台（组织部、党委工作人员和支部书记、副书记、支委可以）。"


class LoginForm(FlaskForm):
    userid = StringField("企业微信账号", validators=[DataRequired("请填写企业微信账号"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请填写密码"), Length(max=MAX_LENGTH)])
    next = HiddenField()


@blueprint.before_request
def _csrf() -> None:
    if request.method == "POST":  # the sign-in form too: a forged one would sign a victim in as someone else
        csrf.protect()


def wecom_enabled() -> bool:
    config = runtime().config
    return bool(config["dashboard.wecom_login"] and config["wecom.corp_id"] and config["wecom.agent_id"]
                and config["wecom.secret"])


def _keys(userid: str) -> list[str]:
    return [f"account:{userid[:64]}", f"address:{request.remote_addr or 'unknown'}"]


def _sign_in(user: WorkbenchUser) -> None:
    session.clear()  # nothing from before the sign-in carries over
    login_user(user)
    session.permanent = True
    session["at"] = session["seen"] = runtime().clock.epoch()


def _overview():
    return redirect(url_for("wb_overview.overview"))


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    if session_alive():
        return _overview()
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next") if is_safe_next(request.args.get("next")) else ""
    message, status = None, 200
    if request.method == "POST" and form.validate():
        message, status, user = _check_password(form.userid.data.strip(), form.password.data)
        if user is not None:
            _sign_in(user)
            return redirect(form.next.data if is_safe_next(form.next.data) else url_for("wb_overview.overview"))
    elif request.method == "POST":
        message = "；".join(e for errors in form.errors.values() for e in errors)
    expired = request.args.get("expired") == "1"
    return render_template("workbench/login.html", form=form, message=message, expired=expired,
                           wecom=wecom_enabled()), status


def _check_password(userid: str, password: str) -> tuple[str | None, int, WorkbenchUser | None]:
    when, keys = now(), _keys(userid)
    with transaction(runtime().sessions) as s:
        until = locked_until(s, keys, when)
        if until is not None:
            audit.record(s, when, origin(), "sign-in-refused", userid, f"锁定中（至 {until:%H:%M}）", who=userid)
            return f"尝试次数过多，已锁定。请在 {until:%H:%M} 以后再试。", 429, None
        plausible = userid.isprintable() and 0 < len(userid) <= 64
        found = holder_by_userid(s, userid) if plausible else None
        account = found[2] if found else None
        ok, rehash = verify(account.password_hash if account is not None and account.active else None, password)
        if ok:
            holder = holder_of(s, account.id)
            user = WorkbenchUser(holder) if holder else None
            if user is None or not user.may_sign_in:
                audit.record(s, when, origin(), "sign-in-refused", userid, "职务不能使用工作台",
                             member=found[0], unit=found[1])
                return NOT_ALLOWED, 403, None
            signed_in(s, account.id, when, rehash)
            clear_failures(s, keys[0])
            audit.record(s, when, origin(), "sign-in", "工作台", "密码", member=holder.member, unit=holder.unit)
            return None, 200, user
        counted = [record_failure(s, key, when) for key in keys]
        lock = max((until for _, until in counted if until), default=None)
        action = "sign-in-locked" if lock else "sign-in-failed"
        detail = f"账号连续错 {counted[0][0]} 次，地址连续错 {counted[1][0]} 次"
        if lock:
            detail = f"错误次数达到 {LOCK_AFTER} 次，锁定至 {lock:%Y-%m-%d %H:%M}"
            log.warning("workbench sign-in locked for %s from %s until %s", userid[:64], request.remote_addr, lock)
        audit.record(s, when, origin(), action, userid[:64], detail, who=userid[:64])
    if lock:
        return f"密码错误次数过多，已锁定 15 分钟（至 {lock:%H:%M}）。", 429, None
    left = LOCK_AFTER - max(n for n, _ in counted)
    return f"企业微信账号或密码不正确。再错 {left} 次将锁定 15 分钟。", 200, None


@blueprint.post("/logout")
def logout():
    if current_user.is_authenticated:
        holder = current_user.holder
        with transaction(runtime().sessions) as s:
            audit.record(s, now(), origin(), "sign-out", "工作台", member=holder.member, unit=holder.unit)
    logout_user()
    session.clear()
    return redirect(url_for("wb_auth.login"))


# ---- WeCom sign-in -----------------------------------------------------

def _client():
    if "zhibu.wecom_client" not in current_app.extensions:
        from bot.wecom.client import WeComClient
        current_app.extensions["zhibu.wecom_client"] = WeComClient(runtime())
    return current_app.extensions["zhibu.wecom_client"]


@blueprint.get("/login/wecom")
def wecom_start():
    if not wecom_enabled():
        abort(404)
    config = runtime().config
    state = secrets.token_urlsafe(18)
    session["oauth_state"] = state
    wanted = request.args.get("next")
    session["oauth_next"] = wanted if is_safe_next(wanted) else ""
    base = config["dashboard.public_url"] or request.host_url.rstrip("/")
    back = base + url_for("wb_auth.wecom_return")
    if "wxwork" in request.headers.get("User-Agent", "").lower():  # inside the WeCom app
        query = urlencode({"appid": config["wecom.corp_id"], "redirect_uri": back, "response_type": "code",
                           "scope": "snsapi_base", "agentid": config["wecom.agent_id"], "state": state})
        return redirect(f"{config['wecom.oauth_url']}?{query}#wechat_redirect")
    query = urlencode({"login_type": "CorpApp", "appid": config["wecom.corp_id"],
                       "agentid": config["wecom.agent_id"], "redirect_uri": back, "state": state})
    return redirect(f"{config['wecom.sso_url']}?{query}")


def _refused(message: str, status: int):
    return render_template("workbench/login.html", form=LoginForm(), message=message, expired=False,
                           wecom=wecom_enabled()), status


@blueprint.get("/login/wecom/return")
def wecom_return():
    if not wecom_enabled():
        abort(404)
    from bot.wecom.client import SendError
    expected, wanted = session.pop("oauth_state", None), session.pop("oauth_next", "")
    state, code = request.args.get("state", ""), request.args.get("code", "")
    if not expected or not hmac.compare_digest(state.encode(), expected.encode()) \
            or not (0 < len(code) <= 512 and code.isprintable()):
        return _refused("企业微信登录请求已失效，请重新点击“企业微信登录”。", 400)
    when, address_key = now(), _keys("")[1]
    with transaction(runtime().sessions) as s:
        until = locked_until(s, [address_key], when)
    if until is not None:
        return _refused(f"尝试次数过多，已锁定。请在 {until:%H:%M} 以后再试。", 429)
    try:
        userid = str(_client().user_id_for_code(code))
    except SendError as e:
        with transaction(runtime().sessions) as s:
            record_failure(s, address_key, when)
            audit.record(s, when, origin(), "sign-in-failed", "企业微信", f"auth/getuserinfo：{e}", who="企业微信登录")
        return _refused("企业微信登录未成功（身份校验失败），请重试或使用密码登录。", 403)
    with transaction(runtime().sessions) as s:
        found = holder_by_userid(s, userid)
        if found is None:
            audit.record(s, when, origin(), "sign-in-refused", userid[:64], "企业微信：名册中无此人", who=userid[:64])
            return _refused("名册中没有你的企业微信账号，请联系县委组织部。", 403)
        member, unit, account = found
        if account is not None and not account.active:
            audit.record(s, when, origin(), "sign-in-refused", userid, "企业微信：账号已停用", member=member, unit=unit)
            return _refused("你的工作台账号已停用，请联系县委组织部。", 403)
        probe = WorkbenchUser(_holder_like(member, unit))
        if not probe.may_sign_in:
            audit.record(s, when, origin(), "sign-in-refused", userid, "企业微信：职务不能使用工作台",
                         member=member, unit=unit)
            return _refused(NOT_ALLOWED, 403)
        if account is None:
            account, _ = open_account(s, member, None, when)
            audit.record(s, when, origin(), "account-created", f"{member.name}（{userid}）", "企业微信首次登录",
                         member=member, unit=unit)
        signed_in(s, account.id, when)
        audit.record(s, when, origin(), "sign-in", "工作台", "企业微信", member=member, unit=unit)
        holder = holder_of(s, account.id)
    _sign_in(WorkbenchUser(holder))
    return redirect(wanted if is_safe_next(wanted) else url_for("wb_overview.overview"))


def _holder_like(member, unit):
    from storage.accounts import Holder
    return Holder(None, member, unit)  # the role check needs the person and unit only
