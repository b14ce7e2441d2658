"""The Flask app factory: one blueprint per module, nothing else."""
from __future__ import annotations

import logging

from flask import Flask

from bot.config import Config, load_config
from bot.runtime import Runtime


def create_app(config: Config | None = None, runtime: Runtime | None = None) -> Flask:
    runtime = runtime or Runtime.from_config(config or load_config())
    app = Flask(__name__, static_folder=None)  # the workbench serves its own files under /dashboard/static
    from bot.web import aibot, callback, health, metrics, safety, workbench
    from bot.web.request_id import RequestIds
    app.wsgi_app = RequestIds(app.wsgi_app)  # a request id in every log line and in X-Request-Id
    safety.install(app)  # body cap, plain-text errors, security headers: every route
    app.extensions["zhibu"] = runtime
    app.extensions["zhibu.app_crypto"] = callback.app_crypto(runtime.config)
    app.extensions["zhibu.aibot_crypto"] = aibot.aibot_crypto(runtime.config)
    for module in (health, metrics, callback, aibot):
        app.register_blueprint(module.blueprint)
    workbench.install(app, runtime)  # /dashboard/: sign-in, CSRF, one blueprint per page group
    hops = runtime.config["server.proxy_hops"]
    if hops:  # the client's address and scheme from the reverse proxy's X-Forwarded-* (lockouts, audit)
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    logging.getLogger(__name__).debug("app ready: %s", runtime.config.redacted())
    return app
