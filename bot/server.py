"""`serve`: the app under gunicorn (a production WSGI server), on the
configured host and port. Workers are forked after the app is built, so
every worker opens its own database connections."""
from __future__ import annotations

from gunicorn.app.base import BaseApplication

from bot.runtime import Runtime


class _Gunicorn(BaseApplication):
    def __init__(self, runtime: Runtime, options: dict):
        self.runtime, self.options = runtime, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from bot.app import create_app
        self.runtime.engine.dispose()  # never share a pool across a fork
        return create_app(runtime=self.runtime)


def serve(runtime: Runtime, host: str, port: int, workers: int) -> None:
    options = {"bind": f"{host}:{port}", "workers": workers, "worker_class": "sync",
               "timeout": 30, "graceful_timeout": 10, "accesslog": None,
               "preload_app": False, "loglevel": "warning"}
    _Gunicorn(runtime, options).run()
