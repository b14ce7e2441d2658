"""Logging: one line per event, as text or as JSON lines (`--log-json`,
config `log.json`), each with the request id of the HTTP request it was
emitted while serving.

Why each line is one line: a multi-line traceback, or a member's message
with a newline in it, would be read by journald, grep and log shippers as
several events — and a newline an outsider chose could forge a line. Text
lines escape CR and LF (a traceback reads `…\\n  File …`); JSON escapes them
anyway.

The request id lives in a context variable set by bot/web/request_id.py for
the thread serving the request; the handler's filter copies it onto every
record, whichever logger emitted it (ours, Flask's, SQLAlchemy's)."""
from __future__ import annotations

import json
import logging
import sys
import time
from contextvars import ContextVar
from typing import TextIO

request_id: ContextVar[str | None] = ContextVar("zhibu_request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s"
CHATTY = ("alembic", "apscheduler")  # their INFO is noise for operators


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or None) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        rid = request_id.get()
        record.request_id = rid
        record.request_tag = f" [{rid}]" if rid else ""
        return True


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


class TextFormatter(logging.Formatter):
    """`2027-03-01 09:05:00,123 INFO bot.web.callback [3f2a…]: …`, always one line."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_tag"):  # a handler without our filter
            record.request_tag = ""
        return _one_line(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (ISO 8601 with offset, ms), level,
    logger, message, pid, request_id when serving a request, exception
    (the traceback as one string) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        seconds = int(record.created)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(seconds))
        offset = time.strftime("%z", time.localtime(seconds))
        doc = {"time": f"{stamp}.{int(record.msecs):03d}{offset[:3]}:{offset[3:]}",
               "level": record.levelname, "logger": record.name, "message": record.getMessage(),
               "pid": record.process}
        rid = getattr(record, "request_id", None)
        if rid:
            doc["request_id"] = rid
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            doc["exception"] = record.exc_text
        if record.stack_info:
            doc["stack"] = record.stack_info
        return json.dumps(doc, ensure_ascii=False, default=str)


def setup_logging(level: str | int = "INFO", json_lines: bool = False, stream: TextIO | None = None) -> logging.Handler:
    """The root logger writes to stderr (or `stream`) through one handler of
    ours, replacing the one an earlier call installed (others, such as a test
    runner's, stay). Returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    handler.addFilter(RequestIdFilter())
    handler.zhibu = True
    root = logging.getLogger()
    for old in root.handlers[:]:
        if getattr(old, "zhibu", False):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for chatty in CHATTY:
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return handler
