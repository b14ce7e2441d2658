"""任务矩阵: the branches in scope × the month's tasks. Each cell: reported /
returned / acknowledged (收到) / outstanding / overdue, with the report's time, note (tooltip),
evidence count and marks 补 (reported again after a return), 逾 (first
reported after the deadline), 更 (corrected); a click opens that branch's
report. Filters: unit, 领域, status.

The cells travel as one JSON block (storage.matrix.grid's lists) that
workbench.js lays out as the table: 50,000 cells as HTML would be ~10 MB
built cell by cell in Python; as JSON they are ~4 MB made in one C call.
The page stays server-rendered around it (filters, headers, counts).
bench/matrix_bench.py measures the page."""
from __future__ import annotations

import json

from flask import Blueprint, render_template, request
from markupsafe import Markup

from bot.web.workbench.access import actor, gate, month_arg, now, runtime, scope
from storage.matrix import CODES, STATUSES, grid, month_tasks
from storage.models import CATEGORIES
from storage.month import Month
from storage.tasks import ACKNOWLEDGED, OPEN, REPORTED, RETURNED
from storage.matrix import OVERDUE
from storage.workbench import organizations, unit_under

blueprint = Blueprint("wb_matrix", __name__, url_prefix="/dashboard", template_folder="../templates")
blueprint.before_request(gate)
STATUS_NAMES = {REPORTED: "已上报", RETURNED: "被退回", ACKNOWLEDGED: "已收到", OPEN: "未上报", OVERDUE: "逾期未报"}


def json_block(data) -> Markup:
    """JSON for a <script type="application/json"> block: nothing in it can
    close the element or start markup."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # str.replace, not str.translate: on 4 MB a translate table is ~50× slower.
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                  .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def build(session, month: Month, unit: str, category: str, status: str, today) -> dict:
    who = actor()
    branches = scope(session)
    tree = organizations(session)
    under = {b.id: unit_under(tree, who.unit, b) for b in branches}
    units = sorted({u.code: u for u in under.values()}.values(), key=lambda o: o.code)
    if unit:
        branches = [b for b in branches if under[b.id].code == unit]
    if category:
        branches = [b for b in branches if b.category == category]
    tasks = month_tasks(session, month)
    rows = grid(session, tasks, branches, today)
    if status:
        code = CODES[status]
        kept = [(b, r) for b, r in zip(branches, rows) if any(c and c[0] == code for c in r)]
        branches, rows = [b for b, _ in kept], [r for _, r in kept]
    data = {"tasks": [[t.id, t.number, t.title, f"{t.deadline.month}/{t.deadline.day}", t.deadline < today]
                      for t in tasks],
            "branches": [[b.code, b.name] for b in branches], "cells": rows}
    return {"data": json_block(data), "tasks": tasks, "units": units, "shown": len(branches)}


@blueprint.get("/matrix")
def matrix():
    today = now().date()
    month = month_arg("month", Month.of(today))
    unit = request.args.get("unit", "")[:32]
    category = request.args.get("category", "")
    category = category if category in CATEGORIES else ""
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    with runtime().sessions() as session:
        built = build(session, month, unit, category, status, today)
    return render_template("workbench/matrix.html", nav="matrix", month=month, unit=unit, category=category, today=today,
                           status=status, categories=CATEGORIES, statuses=STATUS_NAMES,
                           many_units=len(built["units"]) > 1, **built)
