"""A task: who reported (every version kept), evidence previews (photos
inline, other files as downloads, sha256 shown), return with a reason,
chase the rest, decide a branch's extension request. Return and chase are
the chat commands' own functions (handlers/commands/org.py), 同意 / 不同意
the one the card's buttons and 同意延期 / 不同意延期 call
(handlers/commands/cards.py `decide`): the same rules, messages, history
and audit rows."""
from __future__ import annotations

import mimetypes
from datetime import timedelta
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for

from bot.web.safety import plain
from bot.web.workbench.access import (actor, branch_or_404, gate, now, origin, require, runtime, scope,
                                      task_or_404)
from handlers.commands.cards import DECIDES, decide, may_decide
from handlers.commands.org import chase_branches, return_branch_report
from handlers.context import ORG_ADMIN, STAFF, CommandError, Context
from handlers.inbound import Inbound
from handlers.limits import REASON
from storage.audit import as_from
from storage.db import transaction
from handlers.render import backfill_words
from storage.meetings import backfilled_duties
from storage.matrix import CODES, OVERDUE, assignments_of, evidence_file, evidence_of, member_names, reports_of
from storage.month import Month
from storage.cards import PENDING, extension_to_decide, extensions_of
from storage.tasks import ACKNOWLEDGED, OPEN, REPORTED, RETURNED, TaskBook

blueprint = Blueprint("wb_tasks", __name__, url_prefix="/dashboard", template_folder="../templates")
blueprint.before_request(gate)
TASK_ID = "<int(max=2147483647):task_id>"
STATE_NAMES = {REPORTED: "已上报", RETURNED: "被退回", ACKNOWLEDGED: "已收到", OPEN: "未上报", OVERDUE: "逾期未报"}
EXTENSION_NAMES = {"pending": "待审核", "granted": "已同意", "refused": "未同意"}
KIND_NAMES = {"done": "上报", "correction": "更正"}
# Shown inline only when the bytes say so; anything else is a download (no SVG, no HTML).
IMAGE_MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png", b"GIF87a": "image/gif",
               b"GIF89a": "image/gif"}
REASON_MAX = 500


def _state(task, branch, book, today) -> str:
    """reported, returned, overdue (by the branch's own deadline), acknowledged or open."""
    bt = book.of(task, branch)
    return OVERDUE if bt.state == OPEN and bt.deadline < today else bt.shown_state


@blueprint.get(f"/tasks/{TASK_ID}")
def task(task_id: int):
    today = now().date()
    with runtime().sessions() as session:
        found, aimed = task_or_404(session, task_id)
        book = TaskBook(session, Month.iso(found.month), aimed)
        versions = reports_of(session, found.id, [b.id for b in aimed])
        names = member_names(session, {r.member_id for rs in versions.values() for r in rs})
        files = evidence_of(session, [rs[-1].id for rs in versions.values()])
        extensions = extensions_of(session, found.id, [b.id for b in aimed])
        late = backfilled_duties(session, [found.id], [b.id for b in aimed])  # duties done by a late meeting
        waiting = [(b, asked[-1]) for b in aimed if (asked := extensions.get(b.id)) and asked[-1].state == PENDING]
        askers = member_names(session, {r.member_id for _, r in waiting})
        pending = [{"branch": b, "request": r, "asker": askers.get(r.member_id, ""),
                    "until": r.old_deadline + timedelta(days=r.days),
                    "may_decide": may_decide(actor(), found, b, scope(session))} for b, r in waiting]
        rows = []
        for branch in aimed:
            mine = versions.get(branch.id, [])
            current = mine[-1] if mine else None
            bt = book.of(found, branch)
            asked = extensions.get(branch.id, [])
            rows.append({"branch": branch, "state": _state(found, branch, book, today), "current": current,
                         "acknowledged": bt.acknowledged_at, "deadline": bt.own_deadline,
                         "backfilled": backfill_words(late[found.id, branch.id])
                         if (found.id, branch.id) in late else "",
                         "extension": f"延期{asked[-1].days}天 {EXTENSION_NAMES[asked[-1].state]}" if asked else "",
                         "who": names.get(current.member_id, "") if current else "",
                         "files": len(files.get(current.id, [])) if current else 0, "versions": len(mine)})
    order = {OVERDUE: 0, RETURNED: 1, OPEN: 2, ACKNOWLEDGED: 3, REPORTED: 4}
    rows.sort(key=lambda r: (order[r["state"]], r["branch"].code))
    counts = {s: sum(r["state"] == s for r in rows) for s in STATE_NAMES}
    return render_template("workbench/task.html", nav="matrix", task=found, month=Month.iso(found.month),
                           rows=rows, counts=counts, names=STATE_NAMES, codes=CODES, today=today,
                           pending=pending, reason_max=REASON.chars, may_chase=actor().kind in STAFF,
                           may_return=actor().kind == ORG_ADMIN)


@blueprint.get(f"/tasks/{TASK_ID}/<code>")
def report(task_id: int, code: str):
    today = now().date()
    with runtime().sessions() as session:
        found, aimed = task_or_404(session, task_id)
        branch = branch_or_404(session, code)
        if branch not in aimed:
            abort(404)
        book = TaskBook(session, Month.iso(found.month), [branch])
        versions = reports_of(session, found.id, [branch.id]).get(branch.id, [])
        names = member_names(session, {r.member_id for r in versions})
        files = evidence_of(session, [r.id for r in versions])
        state = _state(found, branch, book, today)
        assignment = assignments_of(session, found.id).get(branch.id)
        reason = assignment.return_reason if assignment is not None and state == RETURNED else None
    return render_template("workbench/report.html", nav="matrix", task=found, month=Month.iso(found.month),
                           branch=branch, state=state, reason=reason, versions=versions, names=names, files=files,
                           state_names=STATE_NAMES, kinds=KIND_NAMES, today=today,
                           may_return=actor().kind == ORG_ADMIN and state == REPORTED, reason_max=REASON_MAX)


@blueprint.post(f"/tasks/{TASK_ID}/<code>/return")
def return_report(task_id: int, code: str):
    require(ORG_ADMIN)
    reason = (request.form.get("reason") or "").strip()
    who, when = actor(), now()
    back = url_for("wb_tasks.report", task_id=task_id, code=code)
    if not reason:
        flash("请写明退回原因。", "error")
        return redirect(back)
    if len(reason) > REASON_MAX:
        flash(f"退回原因最多 {REASON_MAX} 字。", "error")
        return redirect(back)
    try:
        with transaction(runtime().sessions) as session:
            found, aimed = task_or_404(session, task_id)
            branch = branch_or_404(session, code)
            if branch not in aimed:
                abort(404)
            return_branch_report(session, who, found, branch, reason, when, origin())
        flash(f"已退回{branch.name}的上报，原因：{reason}。已通知该支部群。", "ok")
    except CommandError as e:
        flash(str(e), "error")
    return redirect(back)


@blueprint.post(f"/tasks/{TASK_ID}/chase")
def chase(task_id: int):
    require(*STAFF)
    who, when = actor(), now()
    with transaction(runtime().sessions) as session:
        found, aimed = task_or_404(session, task_id)
        late, new = chase_branches(session, who, found, aimed, when, origin())
    if not late:
        flash("各支部都已上报，无需催办。", "ok")
    elif new:
        flash(f"已催办 {len(late)} 个支部：{'、'.join(b.name for b in late[:10])}{'等' if len(late) > 10 else ''}。", "ok")
    else:
        flash(f"今天已催办过这 {len(late)} 个支部，不再重复发送。", "warn")
    return redirect(url_for("wb_tasks.task", task_id=task_id))


@blueprint.post(f"/tasks/{TASK_ID}/extensions/<int(max=2147483647):request_id>")
def decide_extension(task_id: int, request_id: int):
    """同意 / 不同意 a branch's extension request: who may decide it, and all
    that follows (the deadline, the messages, the audit row), is `decide`'s —
    the function the card's buttons and 同意延期 / 不同意延期 call."""
    require(*STAFF)
    choice = request.form.get("decision")
    if choice not in ("grant", "refuse"):
        abort(plain("请选择同意或不同意。", 400))
    why = (request.form.get("reason") or "").strip() if choice == "refuse" else ""
    back = url_for("wb_tasks.task", task_id=task_id) + "#extensions"
    if len(why) > REASON.chars:
        flash(f"不同意的原因最多 {REASON.chars} 字，未做任何处理。", "error")
        return redirect(back)
    who, when = actor(), now()
    try:
        with transaction(runtime().sessions) as session:
            found, aimed = task_or_404(session, task_id)
            asked = extension_to_decide(session, request_id)
            branch = next((b for b in aimed if asked is not None and b.id == asked.branch_id), None)
            if branch is None or asked.task_id != found.id:
                abort(404)
            if not may_decide(who, found, branch, scope(session)):
                abort(plain(DECIDES(who), 403))
            again = asked.state != PENDING
            ctx = Context(session, when, who, Inbound("web", who.member.wecom_userid or "", "web"))
            reply, _shown = decide(ctx, asked, choice == "grant", why)
            as_from(session, origin())  # decide records its row as from chat; this one came from here
        flash(reply, "warn" if again else "ok")
    except CommandError as e:
        flash(str(e), "error")
    return redirect(back)


@blueprint.get("/evidence/<int(max=2147483647):evidence_id>")
def evidence(evidence_id: int):
    with runtime().sessions() as session:
        found = evidence_file(session, evidence_id)
        if found is None or found[1] not in {b.id for b in scope(session)}:
            abort(404)
    row = found[0]
    if not row.path:
        abort(404)
    folder = Path(runtime().config["server.media_dir"]).resolve()
    path = Path(row.path).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        abort(404)
    with path.open("rb") as f:
        head = f.read(8)
    image = next((kind for magic, kind in IMAGE_MAGIC.items() if head.startswith(magic)), None)
    if image and request.args.get("download") != "1":
        return send_file(path, mimetype=image, max_age=0)
    guessed = mimetypes.guess_type(row.file_name)[0] or "application/octet-stream"
    safe = guessed if guessed.startswith(("application/pdf", "application/vnd", "application/msword")) \
        else "application/octet-stream"
    return send_file(path, mimetype=safe, as_attachment=True, download_name=row.file_name, max_age=0)
