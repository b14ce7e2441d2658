"""审计日志: who did what, when, from where — for the org department."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from bot.web.workbench.access import gate, require, runtime
from handlers.context import ORG_ADMIN
from storage.audit import actions, entries

blueprint = Blueprint("wb_audit", __name__, url_prefix="/dashboard", template_folder="../templates")
blueprint.before_request(gate)
ACTION_NAMES = {
    "sign-in": "登录", "sign-out": "退出", "sign-in-failed": "登录失败", "sign-in-locked": "登录锁定",
    "sign-in-refused": "登录被拒", "account-created": "开通账号", "password-set": "重设密码",
    "account-closed": "停用账号", "publish": "发布任务", "chase": "催办", "return": "退回",
    "retry-delivery": "重发消息", "upload-roster": "导入名册", "upload-plan": "导入计划",
    "upload-appraisals": "导入考评分数", "upload-refused": "导入被拒", "export": "导出",
    "view-phones": "查看完整手机号", "extension": "同意延期", "extension-refused": "不同意延期"}
CHANNEL_NAMES = {"web": "工作台", "chat": "企业微信", "cli": "命令行"}
PAGE = 100


@blueprint.get("/audit")
def audit():
    require(ORG_ADMIN)
    action = request.args.get("action") or None
    text = (request.args.get("q") or "").strip()[:50] or None
    before = request.args.get("before", "")
    before_id = int(before) if before.isdigit() and len(before) < 12 else None
    with runtime().sessions() as session:
        rows = entries(session, action=action, text=text, before_id=before_id, limit=PAGE)
        known = actions(session)
    return render_template("workbench/audit.html", nav="audit", rows=rows, actions=known, action=action, q=text or "",
                           names=ACTION_NAMES, channels=CHANNEL_NAMES,
                           older=rows[-1].id if len(rows) == PAGE else None)
