"""概览: a month of the branches in the actor's scope — completion by unit
and by 领域 (bar charts), the last 12 months (line chart), overdue
branches, extension requests waiting for a decision, deliveries that
failed or are late (with the reason and a retry button), the scheduler's
heartbeat, the holiday data, events to look at.
Chart data goes to the page as a JSON block that workbench.js draws with
Chart.js (no inline script)."""
from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from sqlalchemy.orm import Session

from bot.web.workbench.access import actor, gate, month_arg, now, origin, require, runtime, scope
from handlers.commands.cards import may_decide
from handlers.context import ORG_ADMIN, STAFF, Actor
from storage import audit
from storage.addresses import member_owner, org_owner, owner_parts, problems
from storage.db import transaction
from storage.events import recent_events
from storage.leases import lease_of
from storage.members import userids_in
from storage.models import CATEGORIES, Organization
from storage.month import Month
from storage.development import without_new_member
from storage.rectification import flags
from storage.terms import overdue_terms, without_secretary
from storage.workbench import (Counts, completion, delivery, organizations, pending_extensions, retry, troubled,
                               unit_under)
from storage.workdays import is_known_year, unknown_years

blueprint = Blueprint("wb_overview", __name__, url_prefix="/dashboard", template_folder="../templates")
blueprint.before_request(gate)
EVENT_NAMES = {"missed-run": "定时任务补推", "job-error": "定时任务出错", "delivery-failed": "发送失败",
               "holiday-data": "节假日数据"}
STATE_NAMES = {"failed": "失败", "pending": "等待重试", "sending": "发送中"}


def audiences(session: Session, who: Actor, branches: list[Organization]) -> list[str] | None:
    """The outbox audiences this person may see (None: the org department sees all):
    their branches, their own unit, and the members of both."""
    if who.kind == ORG_ADMIN:
        return None
    orgs = list({o.id: o for o in [*branches, who.unit]}.values())
    return [org_owner(o.code) for o in orgs] + [member_owner(u) for u in userids_in(session, [o.id for o in orgs])]


def holiday_gaps(today) -> list[int]:
    """Years the schedule runs in without holiday data: this one, next (from
    November), and any a push has already met."""
    years = {today.year, today.year + 1} if today.month >= 11 else {today.year}
    return sorted({y for y in years if not is_known_year(y)} | set(unknown_years()))


def _pct(counts: Counts) -> float | None:
    return None if counts.rate is None else round(100 * counts.rate, 1)


def _grouped(rows: dict[int, Counts], key) -> list[tuple[str, Counts]]:
    groups: dict[str, Counts] = defaultdict(Counts)
    for branch, counts in rows:
        total = groups[key(branch)]
        total.due, total.done, total.overdue = total.due + counts.due, total.done + counts.done, \
            total.overdue + counts.overdue
    return list(groups.items())


def charts(session: Session, who: Actor, branches: list[Organization], month: Month, today) -> dict:
    first = month.shift(-11)
    figures = completion(session, branches, first, month, today)
    this = [(b, figures[str(month)].get(b.id, Counts())) for b in branches]
    trend = []
    for i in range(12):
        m = first.shift(i)
        total = Counts()
        for counts in figures.get(str(m), {}).values():
            total.due, total.done = total.due + counts.due, total.done + counts.done
        trend.append({"label": f"{m.year % 100:02d}年{m.number}月", "rate": _pct(total), "done": total.done,
                      "due": total.due})
    tree = organizations(session)
    units = _grouped(this, lambda b: unit_under(tree, who.unit, b).name)
    order = {c: i for i, c in enumerate(CATEGORIES)}
    areas = sorted(_grouped(this, lambda b: b.category or "其他"), key=lambda kv: order.get(kv[0], 99))
    as_bars = lambda pairs: [{"label": k, "rate": _pct(c), "done": c.done, "due": c.due}  # noqa: E731
                             for k, c in pairs if c.due]
    return {"units": sorted(as_bars(units), key=lambda r: (r["rate"] is None, r["rate"] or 0)),
            "areas": as_bars(areas), "trend": trend, "month": month.label}, this


@blueprint.get("/")
def overview():
    current = now()
    month = month_arg("month", Month.of(current.date()))
    who = actor()
    with runtime().sessions() as session:
        branches = scope(session)
        data, this = charts(session, who, branches, month, current.date())
        progress = [{"branch": b, "count": c.due, "done": c.done, "overdue": c.overdue} for b, c in this]
        progress.sort(key=lambda r: (r["done"] / r["count"] if r["count"] else 1, -r["overdue"], r["branch"].code))
        seen = audiences(session, who, branches)
        lease = lease_of(session, "scheduler")
        owners = [org_owner(b.code) for b in branches]
        totals = Counts(sum(c.due for _, c in this), sum(c.done for _, c in this), sum(c.overdue for _, c in this))
        return render_template(
            "workbench/overview.html", nav="overview", month=month, progress=progress, charts=data, totals=totals,
            overdue=[r for r in sorted(progress, key=lambda r: (-r["overdue"], r["branch"].code)) if r["overdue"]],
            address_problems={owner_parts(o)[1]: e for o, e in problems(session, owners).items()},
            troubled=troubled(session, current, seen), state_names=STATE_NAMES,
            events=recent_events(session, seen), event_names=EVENT_NAMES,
            lease=lease, lease_alive=bool(lease and lease.expires_at > current),
            holiday_gaps=holiday_gaps(current.date()), staff=who.kind in STAFF,
            extensions=waiting(session, who, branches), extensions_limit=EXTENSIONS_SHOWN,
            registers=registers(session, branches, current.date()) if who.kind in STAFF else None)


EXTENSIONS_SHOWN = 200


def waiting(session: Session, who: Actor, branches: list[Organization]) -> list[dict]:
    """The scope's extension requests awaiting a decision, and whether this
    viewer may decide each (the chat's rule)."""
    by_id = {b.id: b for b in branches}
    return [{"request": r, "task": t, "month": Month.iso(t.month), "branch": by_id[r.branch_id],
             "may_decide": may_decide(who, t, by_id[r.branch_id], branches)}
            for r, t in pending_extensions(session, list(by_id), EXTENSIONS_SHOWN)]


def registers(session: Session, branches: list[Organization], today) -> dict:
    """The registers' lists for the branches in scope (issue 14)."""
    by_id = {b.id: b for b in branches}
    parents = {b.parent_id for b in branches}  # the committees above these branches have terms too
    in_scope = branches + [o for o in organizations(session).values() if o.id in parents]
    return {"no_new_member": without_new_member(session, branches, today),
            "flagged": [(by_id[f.branch_id], f) for f in flags(session, list(by_id))],
            "overdue_terms": overdue_terms(session, in_scope, today),
            "vacant": without_secretary(session, branches)}


@blueprint.post("/deliveries/<int(max=2147483647):delivery_id>/retry")
def retry_delivery(delivery_id: int):
    require(*STAFF)
    who, when = actor(), now()
    with transaction(runtime().sessions) as session:
        row = delivery(session, delivery_id)
        seen = audiences(session, who, scope(session))
        if row is None or (seen is not None and row.target not in seen):
            abort(404)
        if retry(session, delivery_id, when):
            audit.record(session, when, origin(), "retry-delivery", f"{row.target} {row.purpose} {row.period}",
                         f"上次原因：{row.last_error or '无'}", who.member, who.unit)
            flash(f"已重新排队发送：{row.target}（{row.purpose}），稍后可刷新查看结果。", "ok")
        else:
            flash("这条消息已在发送或已发出，无需重发。", "warn")
    return redirect(url_for("wb_overview.overview") + "#deliveries")
