"""The workbench at /dashboard/: the org department's, a committee's and a
branch secretary's pages, one blueprint per page group.

Sign-in is by account (Flask-Login; `python -m bot add-admin`, Argon2
passwords) or by WeCom OAuth; sessions are Flask's signed cookie, limited
to /dashboard, HttpOnly, SameSite=Lax, ending after `dashboard.session_minutes`
idle. Every POST carries a CSRF token (Flask-WTF). Pages are server-rendered;
the only scripts are static files (Chart.js and workbench.js), so the pages'
Content-Security-Policy allows scripts and images from this site and
nothing inline (see CSP below)."""
from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Blueprint, Flask, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError

from bot.runtime import Runtime
from bot.web.safety import plain
from bot.web.workbench.access import csrf
from bot.web.workbench.user import WorkbenchUser
from storage.accounts import holder_of, session_secret
from storage.db import transaction

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent.parent / "static"
# The workbench's pages (and only they) run scripts and show images: from
# this site only — Chart.js and workbench.js as files, page data in JSON
# blocks that are never executed, evidence photos served by the app.
# Styles from the one stylesheet; no inline script, style or handler.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
assets = Blueprint("wb_assets", __name__, url_prefix="/dashboard", static_folder=str(STATIC),
                   static_url_path="/static")


def _secret_key(runtime: Runtime) -> str:
    configured = runtime.config["dashboard.secret_key"]
    if configured:
        return configured
    try:
        with transaction(runtime.sessions) as session:
            return session_secret(session, runtime.clock.now())
    except Exception:  # no database yet: this process alone, sign-ins will not survive a restart
        log.exception("could not read the session key from the database; using a key of this process")
        return secrets.token_hex(32)


def _page_headers(response):
    if request.path.startswith("/dashboard/") and response.mimetype == "text/html" and response.status_code < 300:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Cache-Control"] = "no-store"  # personal data stays out of shared caches
    return response


def _csrf_refused(e: CSRFError):
    return plain("表单已失效或来源不明（CSRF 校验失败），未做任何更改。请返回、刷新页面后重试。", 400)


def install(app: Flask, runtime: Runtime) -> None:
    from bot.web.workbench import (audit_page, auth, branches, downloads, matrix, overview, publish, registers,
                                   tasks, upload)
    config = runtime.config
    app.secret_key = _secret_key(runtime)
    app.config.update(
        SESSION_COOKIE_NAME="zhibu_session", SESSION_COOKIE_PATH="/dashboard", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=config["dashboard.secure_cookie"],
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=config["dashboard.session_minutes"]),
        WTF_CSRF_CHECK_DEFAULT=False,  # checked by the workbench's gate only: WeCom's callbacks carry none
        WTF_CSRF_TIME_LIMIT=None,      # a token lives as long as its session (which times out)
        # Pages are sent with Referrer-Policy: no-referrer, so browsers post our forms without a
        # Referer: Flask-WTF's HTTPS Referer check would refuse them all. The token and the
        # SameSite=Lax cookie are the defence.
        WTF_CSRF_SSL_STRICT=False)
    csrf.init_app(app)
    manager = LoginManager(app)
    manager.login_view = "wb_auth.login"
    manager.login_message = None
    manager.session_protection = None  # the idle and 12-hour limits are the gate's (access.py)

    @manager.user_loader
    def load(user_id: str) -> WorkbenchUser | None:
        account_id, _, version = user_id.partition(":")
        if not (account_id.isdigit() and version.isdigit()) or len(account_id) > 12:
            return None
        with runtime.sessions() as session:
            holder = holder_of(session, int(account_id))
        if holder is None or holder.account.session_version != int(version):
            return None
        user = WorkbenchUser(holder)
        return user if user.may_sign_in else None

    app.context_processor(_endpoints)
    app.register_error_handler(CSRFError, _csrf_refused)
    app.after_request(_page_headers)
    app.register_blueprint(assets)
    for module in (auth, overview, matrix, tasks, branches, registers, publish, upload, downloads, audit_page):
        app.register_blueprint(module.blueprint)


def _endpoints():
    from flask import current_app
    return {"endpoints": current_app.view_functions}
