"""A branch: its ledger on screen (this year so far, every mark — 逾期,
更正, 补记录 — as in the .xlsx), its members (roles; mobile members'
check-ins by 流入地), and its ledger to download. Mobile numbers are
masked unless the org department asks for them (audited)."""
from __future__ import annotations

from itertools import groupby

from flask import Blueprint, render_template, request

from bot.web.workbench.access import actor, branch_or_404, gate, month_arg, now, origin, runtime
from handlers.context import ORG_ADMIN, STAFF
from handlers.render import mask_phone
from handlers.render.ledger import HEADERS, ledger_rows
from storage import audit
from storage.db import transaction
from storage.development import dates_of, last_new_member, records_of, stage_of, without_new_member
from storage.ledger import build_ledgers
from storage.month import Month
from storage.rectification import flags, items_of
from storage.tasks import TaskBook
from storage.terms import without_secretary
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
        registers = _registers(session, found, today)
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
                           may_unmask=who.kind == ORG_ADMIN, registers=registers, staff=who.kind in STAFF)


def _registers(session, branch, today) -> dict:
    """What the branch page shows of the registers: the 整顿 flag, the
    rectification items (open first) with their state, the development
    register, the term, a vacant 书记, the last new member."""
    book = TaskBook(session, Month.of(today), [branch])
    items = items_of(session, [branch.id])
    states = {bt.task.id: bt.state for bt in book.rectification(branch)}
    return {"flags": flags(session, [branch.id], open_only=False)[-3:],
            "open_flag": next(iter(flags(session, [branch.id])), None),
            "items": sorted(items, key=lambda i: (i.closed, i.task.deadline)),
            "item_states": states,
            "development": [(d, stage_of(d), [(step, day) for step, day in dates_of(d).items() if day])
                            for d in records_of(session, [branch.id])],
            "vacant": bool(without_secretary(session, [branch])),
            "last_joined": last_new_member(session, [branch.id]).get(branch.id),
            "no_new_member": bool(without_new_member(session, [branch], today)),
            "today": today}
