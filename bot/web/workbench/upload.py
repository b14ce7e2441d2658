"""导入: a roster (.xlsx, sheets 组织 and 党员), a yearly plan (.yaml) or
staff-entered 锋领考评 scores (满意度 / 岗位业绩: the radar export's
sheet, for a quarter chosen on the form), checked exactly as
`import-roster` / `import-plan` / `import-appraisals` check them — every
bad row named with its sheet, row and reason — and written in one
transaction: a file with any problem writes nothing. The org department's
only (the roster defines who may do what; scores, like the CLI's import,
may name any branch's members); every attempt is in the audit log."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

from flask import Blueprint, render_template, request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice

from bot.web.safety import MAX_UPLOAD
from bot.web.workbench.access import actor, gate, now, origin, require, runtime
from handlers.context import ORG_ADMIN
from storage import audit
from storage.db import transaction
from storage.importers.appraisals import AppraisalError, import_appraisals
from storage.importers.plan_import import import_plan
from storage.importers.plan_read import PlanError
from storage.importers.roster_import import import_roster
from storage.importers.roster_read import RosterError
from storage.month import FIRST_YEAR, LAST_YEAR, OutOfRange, Quarter

blueprint = Blueprint("wb_upload", __name__, url_prefix="/dashboard", template_folder="../templates")


@blueprint.before_request
def _upload_cap() -> None:
    """Before the gate reads the form (its CSRF token): this route takes files up to MAX_UPLOAD."""
    if request.endpoint == "wb_upload.upload":
        request.max_content_length = MAX_UPLOAD


blueprint.before_request(gate)
KINDS = {"roster": ("名册", (".xlsx",)), "plan": ("年度计划", (".yaml", ".yml")),
         "appraisals": ("考评分数", (".xlsx",))}


class UploadForm(FlaskForm):
    kind = RadioField("导入", choices=[SelectChoice("roster", "党员名册（.xlsx，工作表“组织”和“党员”）"),
                                     SelectChoice("plan", "年度重点工作计划（.yaml）"),
                                     SelectChoice("appraisals", "锋领考评满意度、岗位业绩（.xlsx，radar 导出文件的“锋领考评”工作表）")],
                      default="roster")
    file = FileField("文件", validators=[FileRequired("请选择要导入的文件")])
    quarter = StringField("季度（导入考评分数时填写）")


def quarter_of(text: str) -> tuple[Quarter | None, str]:
    """The form's quarter ("2027Q1"), or why not, in the CLI's words."""
    text = (text or "").strip().upper()
    if not text:
        return None, "导入考评分数请填写季度，如 2027Q1"
    try:
        return Quarter.iso(text), ""
    except OutOfRange:
        return None, f"季度“{text[:20]}”的年份超出范围，应在 {FIRST_YEAR} 至 {LAST_YEAR} 年之间"
    except ValueError:
        return None, f"季度“{text[:20]}”无效，应为 YYYYQn，如 2027Q1"


def safe_name(name: str) -> str:
    """The uploaded file's own name (errors quote it), without any path."""
    base = re.sub(r"[\\/\x00-\x1f]", "_", Path(name or "").name).strip(". ")[:80]
    return base or "upload"


@blueprint.route("/upload", methods=["GET", "POST"])
def upload():
    require(ORG_ADMIN)
    form = UploadForm()
    problems, summary, status = [], None, 200
    if form.is_submitted():
        if not form.validate():
            problems, status = [e for errors in form.errors.values() for e in errors], 400
        else:
            problems, summary = _import(form)
            status = 400 if problems else 200
    if not form.quarter.data:
        form.quarter.data = str(Quarter.of(now().date()))
    return render_template("workbench/upload.html", nav="upload", form=form, problems=problems, summary=summary,
                           max_mb=MAX_UPLOAD // (1024 * 1024)), status


def _import(form: UploadForm) -> tuple[list[str], str | None]:
    kind = form.kind.data if form.kind.data in KINDS else "roster"
    label, suffixes = KINDS[kind]
    upload = form.file.data
    name = safe_name(upload.filename)
    who, when = actor(), now()
    quarter, wrong_quarter = quarter_of(form.quarter.data) if kind == "appraisals" else (None, "")
    if not name.lower().endswith(suffixes):
        problems = [f"{name}：{label}应为 {' 或 '.join(suffixes)} 文件"]
    elif wrong_quarter:
        problems = [wrong_quarter]
    else:
        with tempfile.TemporaryDirectory(prefix="zhibu-upload-") as tmp:
            path = Path(tmp) / name
            upload.save(str(path))
            try:
                with transaction(runtime().sessions) as session:  # one transaction: a problem rolls all back
                    if kind == "roster":
                        result = import_roster(session, path, when)
                        summary = f"组织：{result['orgs']}；党员：{result['members']}" + (
                            f"；发展党员：{result['development']}" if "development" in result else "")
                    elif kind == "appraisals":
                        written = import_appraisals(session, path, quarter, when)
                        summary = f"{quarter.label}考评分数：{written} 名党员"
                    else:
                        summary = f"任务：{import_plan(session, path, when)}"
                    audit.record(session, when, origin(), f"upload-{kind}", name, summary, who.member, who.unit)
                return [], summary
            except (RosterError, PlanError, AppraisalError) as e:
                problems = list(e.problems)
    with transaction(runtime().sessions) as session:
        audit.record(session, when, origin(), "upload-refused", name, f"{label}：{len(problems)} 处问题，未导入",
                     who.member, who.unit)
    return problems, None
