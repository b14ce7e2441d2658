"""The registers on a branch's page (issue 14): 软弱涣散 flag and lift,
rectification items added and closed (销号) — the chat's own functions
(handlers/commands/registers.py): the same checks, messages to the group
and audit rows. Staff only (the org department, and a committee for its
own subtree: another branch is a 404); every form carries its CSRF token."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for

from bot.web.workbench.access import actor, branch_or_404, gate, now, origin, require, runtime
from handlers.commands.registers import (add_rectification_item, close_rectification_item, flag_branch,
                                         lift_branch_flag)
from handlers.context import STAFF, CommandError
from handlers.parse import day_arg
from storage.db import transaction
from storage.tasks import task_by_id

blueprint = Blueprint("wb_registers", __name__, url_prefix="/dashboard", template_folder="../templates")
blueprint.before_request(gate)
TASK_ID = "<int(max=2147483647):task_id>"


def _act(code: str, what) -> object:
    """Run `what(session, branch)` for a branch in scope, as staff; flash
    its outcome (a CommandError as the reason); back to the branch page."""
    require(*STAFF)
    back = url_for("wb_branches.branch", code=code) + "#registers"
    try:
        with transaction(runtime().sessions) as session:
            branch = branch_or_404(session, code)
            flash(what(session, branch), "ok")
    except CommandError as e:
        flash(str(e), "error")
    return redirect(back)


def _field(name: str) -> str:
    return (request.form.get(name) or "").strip()


@blueprint.post("/branches/<code>/flag")
def flag(code: str):
    def run(session, branch):
        flag_branch(session, actor(), branch, _field("reason"), now(), origin())
        return f"已将{branch.name}列为软弱涣散党组织。"
    return _act(code, run)


@blueprint.post("/branches/<code>/lift")
def lift(code: str):
    def run(session, branch):
        lift_branch_flag(session, actor(), branch, _field("note"), now(), origin())
        return f"已解除{branch.name}的整顿。"
    return _act(code, run)


@blueprint.post("/branches/<code>/items")
def add_item(code: str):
    def run(session, branch):
        if not _field("deadline"):
            raise CommandError("请填写截止日期。")
        item = add_rectification_item(session, actor(), branch, _field("title"),
                                      day_arg(_field("deadline"), "截止日期"), now(), origin())
        return f"已交办整改事项「{item.task.title}」，已通知该支部群。"
    return _act(code, run)


@blueprint.post(f"/branches/<code>/items/{TASK_ID}/close")
def close_item(code: str, task_id: int):
    def run(session, branch):
        task = task_by_id(session, task_id)
        if task is None:
            abort(404)
        close_rectification_item(session, actor(), branch, task, _field("note"), now(), origin())
        return f"已销号：「{task.title}」。"
    return _act(code, run)
