"""/metrics for Prometheus (prometheus-client).

Two kinds of figures:
- per request, counted in the process that served it: HTTP latency by route
  and status, WeCom callbacks by message kind and outcome. Under gunicorn
  every worker writes to PROMETHEUS_MULTIPROC_DIR (set by `serve`) and a
  scrape adds them up;
- the bot's state, read from the database at scrape time: outbox rows by
  state and channel, the oldest pending row's wait, each lease's holder and
  time left (the scheduler's is its heartbeat), and whether the smart
  robot's long connection is up.
Scraping needs no login; `metrics.allow` limits it to some addresses."""
from __future__ import annotations

import ipaddress
import os
import time

from flask import Blueprint, Response, abort, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.wecom.longconn import CONNECTED, LEASE
from storage import metrics as figures
from storage.leases import state_of

blueprint = Blueprint("metrics", __name__)
CALLBACK_ROUTES = {"wecom.callback": "app", "aibot.aibot": "aibot"}

REQUESTS = Histogram("zhibu_http_request_seconds", "HTTP requests by route and status",
                     ["route", "status"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5))
CALLBACKS = Counter("zhibu_callbacks_total", "WeCom callbacks by channel, message kind and outcome",
                    ["channel", "kind", "outcome"])


@blueprint.before_app_request
def _start() -> None:
    g.metrics_started = time.perf_counter()


@blueprint.after_app_request
def _count(response: Response) -> Response:
    route = request.url_rule.rule if request.url_rule else "unknown"
    if route != "/metrics":
        started = g.get("metrics_started") or time.perf_counter()  # refused before our hook ran
        REQUESTS.labels(route, str(response.status_code)).observe(time.perf_counter() - started)
    channel = CALLBACK_ROUTES.get(request.endpoint or "")
    if channel and request.method == "POST":
        CALLBACKS.labels(channel, g.get("callback_kind", "unread"), _outcome(response)).inc()
    return response


def _outcome(response: Response) -> str:
    if response.status_code >= 500:
        return "unavailable"
    if response.status_code >= 400:
        return "refused"
    return "answered" if response.content_length else "silent"  # silent: an event, or WeCom's retry


class _StateCollector:
    """The database's figures, read when Prometheus scrapes."""

    def __init__(self, runtime):
        self.runtime = runtime

    def collect(self):
        now = self.runtime.clock.now()
        with self.runtime.sessions() as session:
            by_state, oldest, leases = (figures.deliveries_by_state(session), figures.oldest_pending(session),
                                        figures.leases(session))
        rows = GaugeMetricFamily("zhibu_deliveries", "Outbox rows by state and channel", labels=["state", "channel"])
        for state, channel, n in by_state:
            rows.add_metric([state, channel], n)
        yield rows
        yield GaugeMetricFamily("zhibu_oldest_pending_delivery_seconds",
                                "How long the longest-waiting due message has waited",
                                value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        left = GaugeMetricFamily("zhibu_lease_seconds_left", "Time left on each lease (the scheduler's: its heartbeat)",
                                 labels=["lease", "holder"])
        for name, holder, expires_at in leases:
            left.add_metric([name, holder], (expires_at - now).total_seconds())
        yield left
        if self.runtime.config["aibot.mode"] == "long_connection":
            with self.runtime.sessions() as session:
                lease = state_of(session, LEASE)
            up = lease is not None and lease.live(now) and lease.state == CONNECTED
            yield GaugeMetricFamily("zhibu_long_connection_up",
                                    "1 while the smart robot's long connection is up (its holder says so)",
                                    value=1.0 if up else 0.0)


def _allowed(remote: str | None) -> bool:
    allow = current_app.extensions["zhibu"].config["metrics.allow"]
    if not allow:
        return True
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net.strip(), strict=False) for net in allow.split(",") if net.strip())


@blueprint.get("/metrics")
def metrics() -> Response:
    if not _allowed(request.remote_addr):
        abort(403)
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # every gunicorn worker's counts
    else:
        registry.register(REQUESTS)
        registry.register(CALLBACKS)
    registry.register(_StateCollector(current_app.extensions["zhibu"]))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
