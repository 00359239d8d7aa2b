"""Publishing due releases: each closed tenant-week, once, as ``LeverReleasePublished`` events.

A week is due ``grace_hours`` after it closes (Monday 00:00 UTC of the next week), or, with a
pulse every 2 or 4 weeks, after its pulse period closes (:func:`last_due_week`): late answers
and calendar syncs of that window are in, anything later is not. A tenant-week's
releases (the organisation's and every team's) are appended in one transaction, each to a
stream of its own expected to be new, so a retry, or two publishers at once, write each
release exactly once; a published week is never computed again.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from shared.commands.settings import organisation_settings, pulse_cadence
from shared.domain import levers as model
from shared.domain.releases import Noise, release_tree
from shared.domain.weeks import utc_week_index, week_label
from shared.eventlog import AppendContext, ConcurrencyError, EventStore, NewEvent, StreamAppend
from shared.eventlog.events_releases import release_stream
from shared.projections.runtime import Runtime
from shared.releases.inputs import tenant_week
from shared.releases.noise import OpenDPNoise
from shared.settings import Settings

log = logging.getLogger("compound.releases")
CONTEXT = AppendContext(actor="system", source="releases")
MAX_WEEKS_BACK = 104
"""A first run releases at most this many weeks before the last due one."""
WEEKS_PER_RUN = 50
"""The scheduler's run publishes at most this many organisation-weeks (bounded work: a
backlog, say a first start on two years of history, is worked off over several runs)."""


@dataclass(frozen=True)
class Published:
    """What a run published: tenant-weeks released, and releases (events) written."""

    weeks: int = 0
    releases: int = 0


def last_due_week(now: datetime, grace_hours: int, cadence_weeks: int = 1) -> int:
    """The latest week whose release is due at ``now``.

    A week is due once its pulse period has closed: with a pulse every 2 or 4 weeks, the
    answers of a small team wait (sealed, fewer than k) until the period's close
    (shared/pulses/vault.py), so each week of the period is released the grace period after
    the period closes, with every answer given for it.

    Parameters:
        now: the time (aware).
        grace_hours: hours after a week (its pulse period) closes before it is released.
        cadence_weeks: the organisation's pulse cadence (1, 2 or 4 weeks).

    Returns:
        Its week index: the last week of the last pulse period closed before
        ``now - grace``'s week began (with a weekly pulse, the week before it).
    """
    current = utc_week_index(now - timedelta(hours=grace_hours))
    return current - current % cadence_weeks - 1


def _released(conn: Connection, tenant_id: Any, weeks: range) -> set[int]:
    """The weeks of ``weeks`` whose organisation release exists (its tenant-week is done)."""
    streams = {release_stream(str(tenant_id), week_label(w)): w for w in weeks}
    rows = conn.execute(
        text("SELECT DISTINCT stream_id FROM events WHERE stream_id = ANY(:s)"),
        {"s": list(streams)},
    ).all()
    return {streams[row.stream_id] for row in rows}


def _first_week(conn: Connection, tenant_id: Any, last: int) -> int:
    row = conn.execute(
        text("SELECT min(week_index) AS first FROM lever_team_weeks WHERE tenant_id = :t"),
        {"t": tenant_id},
    ).first()
    first = row.first if row is not None and row.first is not None else last
    return max(first, last - MAX_WEEKS_BACK + 1)


def release_events(
    conn: Connection, tenant_id: Any, week: int, k: int, epsilon: float, noise: Noise
) -> list[StreamAppend]:
    """The releases of one tenant-week, computed now (noise drawn here, once).

    Parameters:
        conn: a connection.
        tenant_id: the organisation.
        week: the week index.
        k: the organisation's k now.
        epsilon: the privacy budget of each team-week.
        noise: the noise source.

    Returns:
        One new-stream append per node (the organisation's first).
    """
    inputs = tenant_week(conn, tenant_id, week)
    root = str(tenant_id)
    released = release_tree(root, inputs.children, inputs.own, k, epsilon, noise)
    label = week_label(week)
    appends = []
    for node in sorted(released, key=lambda n: (n != root, n)):
        data = {
            "team_id": None if node == root else node,
            "week": label,
            "k": k,
            "epsilon_milli": round(epsilon * 1000),
            "model_version": model.MODEL_VERSION,
            "release": json.dumps(released[node], sort_keys=True, separators=(",", ":")),
        }
        appends.append(
            StreamAppend(
                release_stream(node, label),
                [NewEvent("LeverReleasePublished", data)],
                expected_version=0,
            )
        )
    return appends


def publish_tenant(
    store: EventStore,
    settings: Settings,
    tenant_id: uuid.UUID,
    now: datetime,
    noise: Noise | None = None,
    limit: int | None = None,
) -> Published:
    """Publish every due, unreleased week of one organisation, oldest first.

    Parameters:
        store: the event store.
        settings: the deployment's settings (grace period, budget, default k).
        tenant_id: the organisation.
        now: the time releases are due against.
        noise: the noise source (default: OpenDP's Laplace mechanism).
        limit: publish at most this many weeks (None: all).

    Returns:
        What was published.
    """
    noise = noise or OpenDPNoise()
    weeks = releases = 0
    with store.engine.connect() as conn:
        cadence = pulse_cadence(conn, tenant_id)
        last = last_due_week(now, settings.release_grace_hours, cadence)
        first = _first_week(conn, tenant_id, last)
        done = _released(conn, tenant_id, range(first, last + 1))
    for week in range(first, last + 1):
        if week in done:
            continue
        if limit is not None and weeks >= limit:
            break
        with store.engine.connect() as conn:
            k = organisation_settings(conn, tenant_id, settings).k
            appends = release_events(conn, tenant_id, week, k, settings.privacy_epsilon, noise)
        try:
            store.append_batch(tenant_id, appends, CONTEXT)
        except ConcurrencyError:
            log.info("releases of %s %s were published by another run", tenant_id, week)
            continue
        weeks += 1
        releases += len(appends)
    return Published(weeks, releases)


def tenants(store: EventStore) -> Iterable[uuid.UUID]:
    """Every organisation's id."""
    with store.engine.connect() as conn:
        return [row.id for row in conn.execute(text("SELECT id FROM organizations ORDER BY id"))]


def publish_caught_up(
    store: EventStore, settings: Settings, projections: Runtime, limit: int | None = WEEKS_PER_RUN
) -> Published:
    """Bring the levers read model up to the log's head, then publish what is due now.

    Parameters:
        store: the event store.
        settings: the deployment's settings.
        projections: the projection runtime (it catches the levers up).
        limit: organisation-weeks to publish at most (the scheduler's bound; None: all).

    Returns:
        What was published.
    """
    projections.catch_up("levers")
    return publish_due(store, settings, limit=limit)


def publish_due(
    store: EventStore,
    settings: Settings,
    now: datetime | None = None,
    noise: Noise | None = None,
    limit: int | None = None,
) -> Published:
    """Publish every due, unreleased week of every organisation (the scheduler's job).

    Parameters:
        store: the event store.
        settings: the deployment's settings.
        now: the time (default: now).
        noise: the noise source (default: OpenDP).
        limit: publish at most this many organisation-weeks in all (None: every one).

    Returns:
        What was published, over all organisations.
    """
    now = now or datetime.now(UTC)
    weeks = releases = 0
    for tenant_id in tenants(store):
        left = None if limit is None else limit - weeks
        if left is not None and left <= 0:
            break
        done = publish_tenant(store, settings, tenant_id, now, noise, left)
        weeks, releases = weeks + done.weeks, releases + done.releases
    return Published(weeks, releases)
