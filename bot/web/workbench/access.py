"""Who is asking, and what they may reach — shared by every page.

The gate runs before every view of the gated blueprints, before the view
reads a single parameter: signed out → the sign-in page; a session idle
past `dashboard.session_minutes` or older than 12 hours → signed out; a
POST without a valid CSRF token → 400. Then each view asks for what it
needs: `require(...)` a role (403), `branch_or_404` / `task_or_404` a thing
in the actor's scope — another branch's id is a 404, exactly like an id
that does not exist, so nothing is learnt from trying ids."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session

from bot.runtime import Runtime
from bot.web.safety import plain
from handlers.context import ORG_ADMIN, STAFF, Actor
from storage.audit import WEB, Origin
from storage.models import Organization, Task
from storage.month import Month
from storage.orgs import branches_under, targets
from storage.tasks import task_by_id

csrf = CSRFProtect()
MAX_SESSION = timedelta(hours=12)
FORBIDDEN = {ORG_ADMIN: "只有组织部工作人员可以使用此功能",
             "staff": "只有组织部和党委工作人员可以使用此功能"}


def runtime() -> Runtime:
    return current_app.extensions["zhibu"]


def now() -> datetime:
    return runtime().clock.now()


def actor() -> Actor:
    return g.actor


def origin() -> Origin:
    return Origin(WEB, request.remote_addr)


def is_safe_next(target: str | None) -> bool:
    """Only a workbench path of this site is a place to go back to after sign-in."""
    return bool(target) and target.startswith("/dashboard/") and not target.startswith("//") \
        and "\\" not in target and target.isprintable()


def session_alive() -> bool:
    """Signed in, and neither idle past the limit nor older than 12 hours;
    a session that is not is ended here."""
    if not current_user.is_authenticated:
        return False
    at, seen, current = session.get("at"), session.get("seen"), runtime().clock.epoch()
    idle = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    if at is None or seen is None or current - seen > idle or current - at > MAX_SESSION.total_seconds():
        logout_user()
        session.clear()
        return False
    session["seen"] = current
    return True


def gate() -> object | None:
    """before_request of every gated blueprint."""
    if not current_user.is_authenticated:
        return redirect(url_for("wb_auth.login", next=request.path if is_safe_next(request.path) else None))
    if not session_alive():
        return redirect(url_for("wb_auth.login", expired=1))
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    g.actor = current_user.actor
    return None


def require(*kinds: str) -> None:
    """403 unless the actor's role is one of `kinds`."""
    if actor().kind not in kinds:
        abort(plain(FORBIDDEN[ORG_ADMIN] if kinds == (ORG_ADMIN,) else FORBIDDEN["staff"], 403))


def is_staff() -> bool:
    return actor().kind in STAFF


def scope(session: Session) -> list[Organization]:
    """The branches the actor may see: all, a committee's subtree, or their own."""
    if "scope" not in g:
        g.scope = branches_under(session, actor().unit)
    return g.scope


def branch_or_404(session: Session, code: str) -> Organization:
    branch = next((b for b in scope(session) if b.code == code), None)
    if branch is None:
        abort(404)
    return branch


def task_or_404(session: Session, task_id: int) -> tuple[Task, list[Organization]]:
    """The task and the branches of the actor's scope it is aimed at; a task
    aimed at none of them does not exist for this actor."""
    task = task_by_id(session, task_id)
    aimed = [b for b in scope(session) if targets(task, b)] if task else []
    if not aimed:
        abort(404)
    return task, aimed


def month_arg(name: str, default: Month) -> Month:
    value = request.args.get(name)
    if not value:
        return default
    try:
        return Month.iso(value)
    except ValueError:
        abort(plain(f"参数 {name} 不是有效的月份，应为 YYYY-MM（如 2027-03）", 400))  # never the value itself
