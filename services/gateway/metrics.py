"""``/metrics``: the deployment's health in Prometheus text format, read at scrape time.

Every figure here is computed from PostgreSQL and Redis when Prometheus scrapes, not counted
in the request path. gunicorn runs several worker processes and a scrape reaches one of them;
counters kept in process memory would each tell a part, and prometheus_client's multiprocess
mode (a directory of mmap files shared by the workers, cleaned at every start) would put a
file write on every request. The questions that matter for operating Compound — how fast the
log grows, how far each projection is behind, how many messages wait in each queue — have
exact answers in the database and the broker, the same whichever process answers, whichever
process (gateway, import, seed, calendar sync) appended. Per-message worker figures come from
Dramatiq's own Prometheus middleware in the worker processes (``shared/messaging.py``).

``COMPOUND_METRICS_TOKEN``, when set, is required as a bearer token.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator

from flask import Blueprint, Flask, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text

from services.gateway.problems import problem
from services.gateway.resources import Resources, resources
from shared.calendar.jobs import SYNC_QUEUE
from shared.messaging import namespace, queue_depths
from shared.wakeups import CATCH_UP_QUEUE

bp = Blueprint("metrics", __name__)

KNOWN_QUEUES = (CATCH_UP_QUEUE, SYNC_QUEUE)
"""Queues reported even when empty (Dramatiq deletes an empty queue's keys)."""


class DeploymentCollector(Collector):
    """Reads the event log head, the projections' checkpoints and the queues per scrape."""

    def __init__(self, res: Resources) -> None:
        self.res = res

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "compound_up",
            "Whether the gateway reaches the component (1) or not (0).",
            None,
            ["component"],
        )
        for component, read in (("database", self._database), ("redis", self._queues)):
            try:
                families = list(read())
            except Exception:  # a component away: compound_up says so, the rest is scraped
                up.add_metric([component], 0.0)
                continue
            up.add_metric([component], 1.0)
            yield from families
        yield up

    def _database(self) -> Iterable[Metric]:
        with self.res.engine.connect() as conn:
            head = int(
                conn.execute(text("SELECT coalesce(max(position), 0) FROM events")).scalar_one()
            )
            calendars = (
                conn.execute(
                    text(
                        "SELECT provider, status, count(*) FROM calendar_connections "
                        "GROUP BY provider, status"
                    )
                ).all()
                if conn.execute(text("SELECT to_regclass('calendar_connections')")).scalar()
                else None
            )
        statuses = self.res.projections.status()
        appended = CounterMetricFamily(
            "compound_events_appended",
            "Events appended to the log (its head position; rate() gives appends per second).",
        )
        appended.add_metric([], float(head))
        yield appended
        labels = ["projection"]
        position = GaugeMetricFamily(
            "compound_projection_position", "Last event position applied.", None, labels
        )
        lag_events = GaugeMetricFamily(
            "compound_projection_lag_events", "Events appended but not yet applied.", None, labels
        )
        lag_seconds = GaugeMetricFamily(
            "compound_projection_lag_seconds",
            "Age of the oldest event not yet applied (0 when caught up).",
            None,
            labels,
        )
        failed = GaugeMetricFamily(
            "compound_projection_failed",
            "1 when the projection stopped at a poison event (see `compound projections status`).",
            None,
            labels,
        )
        rebuilding = GaugeMetricFamily(
            "compound_projection_rebuilding",
            "1 while a new generation is being built.",
            None,
            labels,
        )
        quarantined = GaugeMetricFamily(
            "compound_projection_quarantined_tenants",
            "Tenants whose part of the projection waits at a poison event "
            "(`compound projections status`; `compound projections retry NAME --tenant ID`).",
            None,
            labels,
        )
        held = GaugeMetricFamily(
            "compound_projection_held_events",
            "Events held back for quarantined tenants, their poison events included.",
            None,
            labels,
        )
        for s in statuses:
            quarantined.add_metric([s.name], float(s.quarantined_tenants))
            held.add_metric([s.name], float(s.held_events))
            position.add_metric([s.name], float(s.position))
            lag_events.add_metric([s.name], float(s.lag_events))
            lag_seconds.add_metric([s.name], s.lag_seconds)
            failed.add_metric([s.name], 1.0 if s.status == "failed" else 0.0)
            rebuilding.add_metric([s.name], 1.0 if s.rebuilding is not None else 0.0)
        yield from (position, lag_events, lag_seconds, failed, rebuilding, quarantined, held)
        if calendars is not None:
            connections = GaugeMetricFamily(
                "compound_calendar_connections",
                "Calendar connections by provider and status; needs_reconnect means the "
                "provider refused the grant at the last sync.",
                None,
                ["provider", "status"],
            )
            for provider, status, count in calendars:
                connections.add_metric([provider, status], float(count))
            yield connections

    def _queues(self) -> Iterable[Metric]:
        depths = queue_depths(self.res.redis, namespace(self.res.broker), KNOWN_QUEUES)
        family = GaugeMetricFamily(
            "compound_queue_messages",
            "Messages in Dramatiq's Redis queues by state (waiting, delayed, dead).",
            None,
            ["queue", "state"],
        )
        for (queue, state), count in sorted(depths.items()):
            family.add_metric([queue, state], float(count))
        yield family


@bp.get("/metrics")
def metrics() -> Response:
    token = resources().settings.metrics_token
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return problem(
                401,
                "Unauthorized",
                "/metrics needs the bearer token set in COMPOUND_METRICS_TOKEN",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DeploymentCollector(resources()))
    return Response(generate_latest(registry), mimetype=None, content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
