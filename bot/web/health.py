"""/healthz: is the database reachable, and at which schema version."""
from flask import Blueprint, current_app, jsonify

from storage.db import schema_version

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():
    runtime = current_app.extensions["zhibu"]
    try:
        version = schema_version(runtime.engine)
    except Exception:  # the reason goes to the log, not to the caller
        current_app.logger.exception("healthz: database unreachable")
        return jsonify(ok=False, database="unreachable"), 503
    if version is None:
        return jsonify(ok=False, database="not initialised (run: python -m bot init)"), 503
    return jsonify(ok=True, database="ok", schema=version)
