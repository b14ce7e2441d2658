"""What every response of the app shares: the body cap, plain-text error
pages that never echo the request, and the security headers.

Error bodies are fixed words (status and reason), `text/plain`, so nothing a
client sent can come back as markup (issue 17, row 1). The headers forbid
framing, sniffing, scripts, styles and foreign resources on every response.
The workbench's own HTML pages (bot/web/workbench) replace the policy with
one that allows scripts, one stylesheet and images from this site only —
still nothing inline."""
from __future__ import annotations

import logging

from flask import Flask, Response, abort, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# WeCom's callbacks are a few KB (an encrypted 2,048-byte text is ~3 KB of
# base64); 64 KB leaves room and bounds what a hostile client can make us read.
MAX_BODY = 64 * 1024
# The workbench's roster / plan upload (POST /dashboard/upload) alone takes more: a
# county's roster .xlsx is a few MB. Signed-in org staff only; the worker buffers it too.
MAX_UPLOAD = 8 * 1024 * 1024
CONTENT_SECURITY_POLICY = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a ledger URL's months stay out of other sites' logs
}


def plain(text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A text/plain answer (one charset: `mimetype=` would add a second)."""
    return Response(text, status, headers, content_type="text/plain; charset=utf-8")


def _secure(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _decodable_query() -> None:
    """A query string that is not UTF-8 (raw bytes ≥ 0x80 on the request line)
    makes Werkzeug 3.1 raise UnicodeDecodeError wherever `request.args` is
    first read — a 500. Refuse it, once, before any view."""
    try:
        request.args
    except UnicodeDecodeError:
        abort(400)


def _http_error(e: HTTPException) -> Response:
    if e.response is not None:  # abort(Response(...)): the view built its answer already
        return e.response
    response = plain(f"{e.code} {e.name}\n", e.code or 500)
    for name, value in e.get_headers():  # e.g. Allow on a 405
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _crash(e: Exception) -> Response:
    # Flask has logged the traceback; the client gets the status, never the reason.
    return plain("500 Internal Server Error\n", 500)


def install(app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.before_request(_decodable_query)
    app.after_request(_secure)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _crash)
