"""/healthz: is the database reachable, and at which schema version; with
`aibot.mode: long_connection`, whether the smart robot's long connection
is up and since when — read from its lease row, which the holding process
(the scheduler's leader) renews with every heartbeat, so any web worker
can answer. The status code is the web's own health: a connection down
does not take the web out of a load balancer."""
from flask import Blueprint, current_app, jsonify

from bot.wecom.longconn import CONNECTED, LEASE
from storage.db import schema_version
from storage.leases import state_of

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
    if runtime.config["aibot.mode"] != "long_connection":
        return jsonify(ok=True, database="ok", schema=version)
    return jsonify(ok=True, database="ok", schema=version, long_connection=long_connection(runtime))


def long_connection(runtime) -> dict:
    """{up, state, since, detail}: "up" only while a live holder reports it connected."""
    try:
        with runtime.sessions() as session:
            lease = state_of(session, LEASE)
    except Exception:
        current_app.logger.exception("healthz: could not read the long connection's state")
        return {"up": False, "state": "unknown"}
    if lease is None:
        return {"up": False, "state": "never connected", "since": None}
    live = lease.live(runtime.clock.now())
    state = lease.state if live or lease.state == "stopped" else f"{lease.state or 'unknown'} (holder gone)"
    return {"up": live and lease.state == CONNECTED, "state": state,
            "since": lease.since.isoformat(timespec="seconds") if lease.since else None,
            "detail": lease.detail}
