"""下载: the ledger (台账) of the branches in scope, the bulletin (通报) of
a month, a quarter or a year, and 述职评议. Every export is in the audit log."""
from __future__ import annotations

import io
import tempfile
from pathlib import Path

from flask import Blueprint, abort, render_template, request, send_file

from bot.exports.bulletin import write_bulletin
from bot.exports.ledger import write_ledger
from bot.exports.review import write_review
from bot.web.safety import plain
from bot.web.workbench.access import actor, branch_or_404, gate, month_arg, now, origin, require, runtime, scope
from handlers.context import STAFF
from handlers.render.bulletin import render_bulletin
from storage import audit
from storage.bulletin import build_bulletin
from storage.db import transaction
from storage.ledger import build_ledgers
from storage.month import Month, Period, Quarter, Year
from storage.review import build_reviews

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
                           january=Month.of(today).january, quarter=Quarter.of(today), year=today.year,
                           staff=actor().kind in STAFF)


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


def period_arg(today) -> Period:
    """?quarter=2027Q1, ?year=2027 or ?month=2027-03 (this month by default)."""
    for name, kind in (("quarter", Quarter), ("year", Year)):
        value = request.args.get(name)
        if value:
            try:
                return kind.iso(value)
            except ValueError:
                abort(plain(f"参数 {name} 无效，应为 {'2027Q1' if kind is Quarter else '2027'} 的形式", 400))
    return month_arg("month", Month.of(today))


def _bulletin():
    """(who asks, the period, the bulletin of their branches): staff only."""
    require(*STAFF)
    today = now().date()
    month = period_arg(today)
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


@blueprint.get("/review.xlsx")
def review():
    """述职评议 of a year: the branches in scope (or one of them)."""
    today = now().date()
    try:
        year = Year.iso(request.args.get("year") or str(today.year))
    except ValueError:
        return plain("参数 year 无效，应为年份，如 2027", 400)
    who = actor()
    with runtime().sessions() as session:
        code = request.args.get("branch")
        branches = [branch_or_404(session, code)] if code else scope(session)
        reviews = build_reviews(session, branches, year, today)
    title = branches[0].name if code else who.unit.name
    data = _workbook(lambda r, path: write_review(r, path, f"{title} {year.label}述职评议", now()), reviews)
    _exported("述职评议", f"{title}（{len(branches)} 个支部）{year.label}")
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f"述职评议-{code + '-' if code else ''}{year}.xlsx",
                     mimetype=XLSX)
