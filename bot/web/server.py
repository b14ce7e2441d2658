"""`serve`: the app under gunicorn (a production WSGI server), plus — unless
scheduler.enabled is false — one scheduler process beside it. Several
`serve`s may run: the scheduler lease lets one act at a time.

Workers are gthread with `server.threads` threads each, but with our
event-loop reading (bot/web/worker.py): a request reaches a thread only once
it is whole, so slow clients (slowloris) cannot pin the threads, and each
request must arrive within `server.read_timeout` seconds. gunicorn's sync
workers, and its gthread as it is, are each taken offline by a handful of
slow connections."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger

from bot.runtime import Runtime
from bot.web.safety import MAX_BODY, MAX_UPLOAD
from bot.web.worker import buffered_worker

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]


class _Gunicorn(BaseApplication):
    def __init__(self, runtime: Runtime, options: dict):
        self.runtime, self.options = runtime, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from bot.web import create_app
        self.runtime.engine.dispose()  # never share a pool across a fork
        return create_app(runtime=self.runtime)


class _GunicornLog(GunicornLogger):
    """gunicorn's own lines (a worker booted, timed out, died) through our
    root handler: one format, one line per event, for the whole log."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers[:]:
            self.error_log.removeHandler(handler)
        self.error_log.propagate = True


def start_scheduler(runtime: Runtime) -> subprocess.Popen | None:
    """The scheduler in its own process (never one per web worker)."""
    if not runtime.config["scheduler.enabled"]:
        return None
    args = [sys.executable, "-m", "bot"]
    if Path(runtime.config.source).is_file():
        args += ["-c", runtime.config.source]
    if runtime.config["log.json"]:  # set by the flag, which the child would not see
        args += ["--log-json"]
    return subprocess.Popen([*args, "scheduler"], cwd=ROOT)


def _worker_exited(server, worker) -> None:
    """A dead worker's live gauges must not be added up any more (/metrics)."""
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)


def serve(runtime: Runtime, host: str, port: int, workers: int) -> None:
    # Every worker counts its requests into this folder; a scrape adds them up.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="zhibu-metrics-"))
    config = runtime.config
    options = {"bind": f"{host}:{port}", "workers": workers, "threads": config["server.threads"],
               "worker_class": buffered_worker(config["server.read_timeout"], MAX_BODY, MAX_UPLOAD),
               # keep-alive: a browser's next page reuses its connection; an idle one goes after 5 s
               "keepalive": 5,
               # a worker whose main loop stops (not a busy thread) is restarted after 30 s
               "timeout": 30, "graceful_timeout": 10, "accesslog": None, "logger_class": _GunicornLog,
               "preload_app": False, "loglevel": "warning", "child_exit": _worker_exited}
    scheduler = start_scheduler(runtime)
    try:
        _Gunicorn(runtime, options).run()
    finally:
        if scheduler is not None:
            scheduler.terminate()
            scheduler.wait(timeout=10)
