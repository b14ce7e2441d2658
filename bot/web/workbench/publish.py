"""发布任务: the form behind the chat's 发布 — title, deadline, targets (all,
领域, committees, or branch codes), content, the evidence asked for. It
calls the same publish_task as chat: the same checks (no past deadline,
unknown or out-of-scope codes named, a committee's 全部 is its own
branches), the same broadcast to each branch group, the same audit row.
Each form carries a one-use key, so a double click publishes once."""
from __future__ import annotations

import re
import secrets
from datetime import date

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import HiddenField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from bot.web.workbench.access import actor, gate, now, origin, require, runtime, scope
from handlers.commands.publish import publish_task
from handlers.context import ORG_ADMIN, STAFF, CommandError
from storage.db import transaction
from storage.models import CATEGORIES
from storage.workbench import organizations, unit_under

blueprint = Blueprint("wb_publish", __name__, url_prefix="/dashboard", template_folder="../templates")
blueprint.before_request(gate)
_CODE_SPLIT = re.compile(r"[\s,，、;；]+")
_DAY = re.compile(r"(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?")


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PublishForm(FlaskForm):
    title = StringField("任务名称", validators=[DataRequired("请填写任务名称"), Length(max=300, message="任务名称最多 300 字")])
    deadline = StringField("截止日期", validators=[DataRequired("请填写截止日期")])
    target = RadioField("对象", choices=[SelectChoice("all", "全部支部"), SelectChoice("categories", "按领域"),
                                       SelectChoice("units", "按党委"), SelectChoice("codes", "按支部编码")],
                        default="all")
    categories = Checkboxes("领域", choices=[SelectChoice(c, c) for c in CATEGORIES], validate_choice=False)
    units = Checkboxes("党委", choices=[], validate_choice=False)
    codes = TextAreaField("支部编码", validators=[Optional(), Length(max=20000)])
    content = TextAreaField("内容", validators=[Optional(), Length(max=2000, message="内容最多 2000 字")])
    evidence = StringField("需报材料", validators=[Optional(), Length(max=300, message="需报材料最多 300 字")])
    key = HiddenField()


def parse_day(text: str) -> date:
    """2027-03-20, 2027/3/20, 2027年3月20日; ValueError with the reason in Chinese."""
    match = _DAY.fullmatch(text.strip())
    if not match:
        raise ValueError(f"截止日期“{text.strip()[:20]}”无效，应为 YYYY-MM-DD，如 2027-03-20")
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        raise ValueError(f"截止日期“{text.strip()[:20]}”不存在，请核对月份和日期") from None


def _targets(form: PublishForm, units: dict) -> str:
    """The chat's 对象 text for what the form chose."""
    if form.target.data == "categories":
        chosen = [c for c in form.categories.data or [] if c in CATEGORIES]
        if not chosen:
            raise ValueError("请至少选择一个领域")
        return ",".join(chosen)
    if form.target.data == "units":
        chosen = [units[c] for c in form.units.data or [] if c in units]
        if not chosen:
            raise ValueError("请至少选择一个党委")
        return ",".join(code for unit in chosen for code in unit["codes"])
    if form.target.data == "codes":
        codes = [c.strip().upper() for c in _CODE_SPLIT.split(form.codes.data or "") if c.strip()]
        if not codes:
            raise ValueError("请填写支部编码，如 ZB0001,ZB0002")
        return ",".join(dict.fromkeys(codes))
    return "全部"


def _units(session) -> dict:
    """The units under the actor (党委 for the org department) with their branches' codes."""
    who, tree = actor(), organizations(session)
    found: dict = {}
    for branch in scope(session):
        unit = unit_under(tree, who.unit, branch)
        if unit.id != branch.id:
            found.setdefault(unit.code, {"name": unit.name, "codes": []})["codes"].append(branch.code)
    return found


@blueprint.route("/publish", methods=["GET", "POST"])
def publish():
    require(*STAFF)
    with runtime().sessions() as session:
        units = _units(session)
    form = PublishForm()
    form.units.choices = [SelectChoice(code, f"{u['name']}（{len(u['codes'])} 个支部）")
                          for code, u in sorted(units.items())]
    problems: list[str] = []
    if form.is_submitted():
        if not form.validate():
            problems = [e for errors in form.errors.values() for e in errors]
        else:
            try:
                deadline = parse_day(form.deadline.data)
                targets_text = _targets(form, units)
            except ValueError as e:
                problems = [str(e)]
            else:
                return _publish(form, deadline, targets_text, problems) or _page(form, problems, units)
    else:
        form.key.data = secrets.token_urlsafe(16)
    return _page(form, problems, units)


def _publish(form: PublishForm, deadline: date, targets_text: str, problems: list[str]):
    who, when = actor(), now()
    key = form.key.data if re.fullmatch(r"[A-Za-z0-9_-]{16,40}", form.key.data or "") else secrets.token_urlsafe(16)
    try:
        with transaction(runtime().sessions) as session:
            task, branches = publish_task(
                session, who, scope(session), when, title=form.title.data.strip(), deadline=deadline,
                targets_text=targets_text, content=(form.content.data or "").strip(),
                evidence=(form.evidence.data or "").strip() or None, natural_key=f"web:{key}", origin=origin())
            task_id, number, title = task.id, task.number, task.title
    except CommandError as e:
        problems.append(str(e))
        return None
    except IntegrityError:  # the same form sent twice: its key is taken
        flash("这份表单已经发布过，没有重复发布。", "warn")
        return redirect(url_for("wb_matrix.matrix"))
    flash(f"已发布第{number}项「{title}」，截止 {deadline}，正在发送到 {len(branches)} 个支部。", "ok")
    return redirect(url_for("wb_tasks.task", task_id=task_id))


def _page(form: PublishForm, problems: list[str], units: dict):
    return render_template("workbench/publish.html", nav="publish", form=form, problems=problems,
                           today=now().date(), org=actor().kind == ORG_ADMIN, has_units=bool(units)), \
        (400 if problems else 200)
