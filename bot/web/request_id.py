"""A request id for every HTTP request: in every log line emitted while it
is served (bot/logs.py), in the `X-Request-Id` header of its answer, and in
one access line (`bot.web.access`, INFO) when it is answered.

A WSGI wrapper rather than Flask hooks, so that the id is set before any
hook of ours can refuse the request (the query check, the body cap), covers
Flask's own error logging, and stays set while the answer's body is
written. The id a reverse proxy sends (nginx: `proxy_set_header X-Request-Id
$request_id`) is kept, so its access log and ours name a request alike;
anything else — missing, too long, or with characters outside [A-Za-z0-9._-]
— is replaced by a fresh one, so a client cannot put text of its choosing
into our logs."""
from __future__ import annotations

import logging
import os
import re
import time

from werkzeug.wsgi import ClosingIterator

from bot.logs import request_id

HEADER = "X-Request-Id"
_ACCEPTED = re.compile(r"[A-Za-z0-9._-]{8,64}")
access = logging.getLogger("bot.web.access")


def new_id() -> str:
    return os.urandom(8).hex()


class RequestIds:
    """Wraps a WSGI app (`app.wsgi_app = RequestIds(app.wsgi_app)`)."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        given = environ.get("HTTP_X_REQUEST_ID", "")
        rid = given if _ACCEPTED.fullmatch(given) else new_id()
        environ["zhibu.request_id"] = rid
        request_id.set(rid)
        started, answer = time.perf_counter(), {}

        def start(status, headers, exc_info=None):
            headers[:] = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append((HEADER, rid))
            answer["status"] = status.split(" ", 1)[0]
            return start_response(status, headers, exc_info)

        def done() -> None:
            if access.isEnabledFor(logging.INFO):
                access.info("%s %s %s %.1f ms", environ.get("REQUEST_METHOD", "-"),
                            environ.get("PATH_INFO", "") or "/", answer.get("status", "-"),
                            (time.perf_counter() - started) * 1000)
            request_id.set(None)

        try:
            body = self.app(environ, start)
        except BaseException:
            done()
            raise
        return ClosingIterator(body, done)
