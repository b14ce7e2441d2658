"""The org department's web dashboard: progress of the branches under the
signed-in staff member, failed deliveries, scheduler heartbeat, events,
and the ledger and bulletin as downloads. HTTP Basic auth: the user name is
a staff member's WeCom id, the password `dashboard.password`; members of a
committee see their subtree only, branch members nothing.

Sign-in comes first: a before_request hook checks it for every page before
the view reads a single parameter, so a signed-out request never reaches
parsing (and its errors). Error bodies are plain text that never repeats
what was sent (issue 17, row 1)."""
from __future__ import annotations

import hmac
import io
import tempfile
from pathlib import Path

from sqlalchemy.orm import Session

from flask import Blueprint, Response, abort, current_app, g, render_template, request, send_file

from bot.exports.ledger import write_ledger
from handlers.render.bulletin import render_bulletin
from handlers.context import ORG_ADMIN, Actor
from storage.bulletin import build_bulletin
from storage.ledger import build_ledgers
from storage.addresses import member_owner, org_owner, owner_parts, problems
from bot.web.safety import plain
from storage.events import recent_events
from storage.leases import lease_of
from storage.members import member_by_userid, userids_in
from storage.orgs import branches_under
from storage.outbox import failed
from storage.models import Organization
from storage.month import Month
from storage.tasks import REPORTED, TaskBook
from storage.workdays import unknown_years

blueprint = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates")
EVENT_NAMES = {"missed-run": "定时任务补推", "job-error": "定时任务出错", "delivery-failed": "发送失败",
               "holiday-data": "节假日数据"}


def _challenge() -> Response:
    return plain("请使用组织部工作人员的企业微信账号登录", 401,
                 {"WWW-Authenticate": 'Basic realm="zhibu", charset="UTF-8"'})


def _staff(session: Session) -> Actor:
    """The signed-in staff member, or an HTTP refusal."""
    password = current_app.extensions["zhibu"].config["dashboard.password"]
    if not password:
        abort(plain("管理页面未启用：请在配置中设置 dashboard.password", 404))
    auth = request.authorization
    if not auth or not hmac.compare_digest((auth.password or "").encode(), password.encode()):
        abort(_challenge())
    # a WeCom id is short printable text; a NUL would be an error on PostgreSQL, not a refusal
    plausible = 0 < len(auth.username or "") <= 64 and auth.username.isprintable()
    member = member_by_userid(session, auth.username) if plausible else None
    actor = Actor(member, member.org) if member else None
    if actor is None or not actor.is_staff:
        abort(plain("只有组织部和党委工作人员可以使用管理页面", 403))
    return actor


@blueprint.before_request
def _sign_in() -> None:
    """Every page of the blueprint: who is asking, before anything else is read."""
    with current_app.extensions["zhibu"].sessions() as session:
        g.actor = _staff(session)


def _month(name: str, default: Month) -> Month:
    value = request.args.get(name)
    if not value:
        return default
    try:
        return Month.iso(value)
    except ValueError:
        abort(plain(f"参数 {name} 不是有效的月份，应为 YYYY-MM（如 2027-03）", 400))  # never the value itself


def _audiences(session: Session, actor: Actor, scope: list[Organization]) -> list[str] | None:
    """The outbox audiences this staff member may see (None: the org department sees all):
    their branches, their own unit, and the members of both."""
    if actor.kind == ORG_ADMIN:
        return None
    orgs = [*scope, actor.unit]
    return [org_owner(o.code) for o in orgs] + [member_owner(u) for u in userids_in(session, [o.id for o in orgs])]


@blueprint.get("/")
def overview():
    runtime = current_app.extensions["zhibu"]
    now = runtime.clock.now()
    with runtime.sessions() as session:
        actor: Actor = g.actor
        scope, month = branches_under(session, actor.unit), Month.of(now.date())
        book = TaskBook(session, month, scope)
        progress = []
        for branch in scope:
            mine = book.this_month(branch)
            progress.append({"branch": branch, "count": len(mine),
                             "done": sum(bt.state == REPORTED for bt in mine),
                             "overdue": sum(bt.overdue(now.date()) for bt in mine)})
        progress.sort(key=lambda r: (r["done"] / r["count"] if r["count"] else 1, -r["overdue"], r["branch"].code))
        owners, audiences = [org_owner(b.code) for b in scope], _audiences(session, actor, scope)
        failures = failed(session, targets=audiences)
        lease = lease_of(session, "scheduler")
        return render_template("dashboard.html", unit=actor.unit, month_label=month.label, progress=progress,
                               address_problems={owner_parts(o)[1]: e for o, e in problems(session, owners).items()},
                               failed=failures,
                               events=recent_events(session, audiences), event_names=EVENT_NAMES, lease=lease,
                               lease_alive=bool(lease and lease.expires_at > now),
                               unknown_years=unknown_years())


@blueprint.get("/ledger.xlsx")
def ledger():
    runtime = current_app.extensions["zhibu"]
    today = runtime.clock.today()
    last = _month("to", Month.of(today))
    first = _month("from", last.january)
    actor: Actor = g.actor
    with runtime.sessions() as session:
        ledgers = build_ledgers(session, branches_under(session, actor.unit), first, last, today)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.xlsx"
        write_ledger(ledgers, path, f"{actor.unit.name} 台账 {first} 至 {last}", runtime.clock.now())
        data = path.read_bytes()
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f"台账-{first}-{last}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@blueprint.get("/bulletin")
def bulletin():
    runtime = current_app.extensions["zhibu"]
    today = runtime.clock.today()
    month = _month("month", Month.of(today))
    actor: Actor = g.actor
    with runtime.sessions() as session:
        text = render_bulletin(build_bulletin(session, branches_under(session, actor.unit), month, today),
                               actor.unit.name)
    return plain(text)
