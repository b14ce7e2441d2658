"""A branch: its ledger on screen (this year so far, every mark — 逾期,
更正, 补记录 — as in the .xlsx), its members (roles; mobile members'
check-ins by 流入地), and its ledger to download. Mobile numbers are
masked unless the org department asks for them (audited)."""
from __future__ import annotations

from itertools import groupby

from flask import Blueprint, render_template, request

from bot.web.workbench.access import actor, branch_or_404, gate, month_arg, now, origin, runtime
from handlers.context import ORG_ADMIN
from handlers.render import mask_phone
from handlers.render.ledger import HEADERS, ledger_rows
from storage import audit
from storage.db import transaction
from storage.ledger import build_ledgers
from storage.month import Month
from storage.workbench import members_of

blueprint = Blueprint("wb_branches", __name__, url_prefix="/dashboard", template_folder="../templates")
blueprint.before_request(gate)


@blueprint.get("/branches/<code>")
def branch(code: str):
    today = now().date()
    who = actor()
    last = month_arg("to", Month.of(today))
    first = month_arg("from", last.january)
    if first > last:
        first = last
    show_phones = who.kind == ORG_ADMIN and request.args.get("phones") == "1"
    with runtime().sessions() as session:
        found = branch_or_404(session, code)
        (ledger,) = build_ledgers(session, [found], first, last, today)
        people = members_of(session, found, Month.of(today))
    if show_phones:
        with transaction(runtime().sessions) as s:
            audit.record(s, now(), origin(), "view-phones", f"{found.code} {found.name}", "党员名单完整手机号",
                         who.member, who.unit)
    phone = (lambda p: p or "") if show_phones else mask_phone
    mobile = sorted((p for p in people if p.member.is_mobile), key=lambda p: p.member.inflow_city or "")
    by_city = [(city or "流入地未登记", list(group)) for city, group in
               groupby(mobile, key=lambda p: p.member.inflow_city or "")]
    return render_template("workbench/branch.html", nav="branch", branch=found, ledger=ledger,
                           rows=ledger_rows(ledger), headers=HEADERS, people=people, by_city=by_city, phone=phone,
                           first=first, last=last, this_month=Month.of(today), show_phones=show_phones,
                           may_unmask=who.kind == ORG_ADMIN)
