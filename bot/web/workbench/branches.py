"""(filled in by a later step)"""
from flask import Blueprint

from bot.web.workbench.access import gate

blueprint = Blueprint("wb_branches", __name__, url_prefix="/dashboard", template_folder="../templates")
blueprint.before_request(gate)
