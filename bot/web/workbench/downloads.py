"""下载: the ledger (台账) of the branches in scope, and the bulletin (通报).
Every export is in the audit log."""
from __future__ import annotations

import io
import tempfile
from pathlib import Path

from flask import Blueprint, render_template, request, send_file

from bot.exports.bulletin import write_bulletin
from bot.exports.ledger import write_ledger
from bot.web.safety import plain
from bot.web.workbench.access import actor, branch_or_404, gate, month_arg, now, origin, require, runtime, scope
from handlers.context import STAFF
from handlers.render.bulletin import render_bulletin
from storage import audit
from storage.bulletin import build_bulletin
from storage.db import transaction
from storage.ledger import build_ledgers
from storage.month import Month

blueprint = Blueprint("wb_downloads", __name__, url_prefix="/dashboard", template_folder="../templates")
blueprint.before_request(gate)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workbook(write, *args) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.xlsx"
        write(*args, path)
        return path.read_bytes()


def _exported(what: str, detail: str) -> None:
    who = actor()
    with transaction(runtime().sessions) as s:
        audit.record(s, now(), origin(), "export", what, detail, who.member, who.unit)


@blueprint.get("/downloads")
def downloads():
    today = now().date()
    return render_template("workbench/downloads.html", nav="downloads", month=Month.of(today),
                           january=Month.of(today).january, staff=actor().kind in STAFF)


@blueprint.get("/ledger.xlsx")
def ledger():
    today = now().date()
    last = month_arg("to", Month.of(today))
    first = month_arg("from", last.january)
    if first > last:
        return plain("起始月份晚于结束月份，请调换后重试。", 400)
    if (last.year - first.year) * 12 + last.number - first.number >= 36:
        return plain("台账一次最多导出 36 个月。", 400)
    who = actor()
    with runtime().sessions() as session:
        code = request.args.get("branch")
        branches = [branch_or_404(session, code)] if code else scope(session)
        ledgers = build_ledgers(session, branches, first, last, today)
    title = branches[0].name if code else who.unit.name
    data = _workbook(lambda lg, path: write_ledger(lg, path, f"{title} 台账 {first} 至 {last}", now()), ledgers)
    _exported("台账", f"{title}（{len(branches)} 个支部）{first} 至 {last}")
    name = f"台账-{code + '-' if code else ''}{first}-{last}.xlsx"
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name, mimetype=XLSX)


def _bulletin():
    """(who asks, the month, the bulletin of their branches): staff only."""
    require(*STAFF)
    today = now().date()
    month = month_arg("month", Month.of(today))
    who = actor()
    with runtime().sessions() as session:
        return who, month, build_bulletin(session, scope(session), month, today)


@blueprint.get("/bulletin")
def bulletin():
    who, month, built = _bulletin()
    _exported("通报", f"{who.unit.name} {month.label}（文本）")
    return plain(render_bulletin(built, who.unit.name))


@blueprint.get("/bulletin.xlsx")
def bulletin_workbook():
    who, month, built = _bulletin()
    data = _workbook(lambda b, path: write_bulletin(b, path, now()), built)
    _exported("通报", f"{who.unit.name} {month.label}（Excel）")
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f"通报-{month}.xlsx", mimetype=XLSX)
