"""The levers benchmark (issue 5): rebuild speed of the lever projection and read latency.

* **The organisation**: :func:`infra.synthetic.seed_synthetic` (untimed), :data:`PEOPLE`
  people in teams of :data:`TEAM_SIZE` over :data:`WEEKS` weeks, with :data:`MEETINGS`
  calendar meetings per person and week (``MeetingObserved``, the calendar sync's shape).
* **Rebuild**: ``Runtime.rebuild("levers")`` from position 0 (shadow tables, then the
  switch); the rate counts the events the projection handles, and the log's events.
* **Read latency**: ``GET /api/v1/teams/{id}/levers`` for the last 12 weeks of a random
  team, as the organisation's admin, through the Flask app in-process (everything but the
  socket: authentication, the organisation's k, the read model, suppression, JSON);
  :data:`READS` requests after :data:`WARMUP`. ``GET /api/v1/org/levers`` is timed too.
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bench.common import Context, Section, fmt_int, fresh_database, median, percentile, verdict
from infra.synthetic import seed_synthetic
from shared.database import make_engine
from shared.domain.weeks import iso_week_of
from shared.eventlog import EventStore, KeyRing, generate_master_key
from shared.projections.levers import LeversProjection
from shared.projections.runtime import Runtime
from shared.settings import Settings

TITLE = "Levers (issue 5)"
PEOPLE = 10_000
TEAM_SIZE = 10  # 1,000 teams
WEEKS = 52
MEETINGS = 3  # per person and week
READS = 400
WARMUP = 40
ORG_READS = 5
REBUILD_TARGET = 50_000  # handled events/s, at least
P99_TARGET = 0.050  # seconds


def _progress(message: str) -> None:
    print(f"  [levers] {message}", file=sys.stderr, flush=True)


def run(ctx: Context) -> Section:
    with fresh_database(ctx.database_url) as url:
        return _run(Context(url, ctx.machine, ctx.rounds))


def _run(ctx: Context) -> Section:
    master_key = generate_master_key()
    engine = make_engine(ctx.database_url, pool_size=4)
    store = EventStore(engine, keyring=KeyRing([master_key]))
    timings: dict[str, float] = {}
    try:
        phase = time.perf_counter()
        seeded = seed_synthetic(store, PEOPLE, WEEKS, team_size=TEAM_SIZE, meetings=MEETINGS)
        timings["seeding"] = time.perf_counter() - phase
        handles = LeversProjection.handles
        with engine.connect() as conn:
            handled = int(
                conn.execute(
                    text("SELECT count(*) FROM events WHERE type = ANY(:t)"), {"t": list(handles)}
                ).scalar_one()
            )
            conn.execute(text("ANALYZE"))
            conn.commit()  # else the statistics roll back with the connection's transaction
        log_size = store.head()
        _progress(
            f"seeded {fmt_int(seeded.events)} events ({seeded.teams} teams) in "
            f"{seeded.seconds:.0f} s; the projection handles {fmt_int(handled)}"
        )
        phase = time.perf_counter()
        runtime = Runtime(store, [LeversProjection()])
        runtime.ensure()
        rebuilds = []
        for _ in range(max(1, min(ctx.rounds, 2))):
            started = time.perf_counter()
            runtime.rebuild("levers")
            rebuilds.append(time.perf_counter() - started)
            _progress(f"rebuild: {rebuilds[-1]:.1f} s, {fmt_int(handled / rebuilds[-1])} handled/s")
        timings["rebuild"] = time.perf_counter() - phase
        phase = time.perf_counter()
        team_reads, org_reads = _reads(ctx, master_key, seeded.admin_email)
        timings["reads"] = time.perf_counter() - phase
    finally:
        engine.dispose()
    seconds = median(rebuilds)
    rate = handled / seconds
    p50, p99 = median(team_reads), percentile(team_reads, 0.99)
    ok_rebuild, ok_p99 = rate >= REBUILD_TARGET, p99 <= P99_TARGET
    rows = [
        (
            f"Rebuild of `levers` ({fmt_int(handled)} handled events of a log of "
            f"{fmt_int(log_size)})",
            f"{fmt_int(rate)} handled events/s ({seconds:.1f} s; "
            f"{fmt_int(log_size / seconds)} log events/s)",
            f"{min(rebuilds):.1f} s to {max(rebuilds):.1f} s",
            f"≥ {fmt_int(REBUILD_TARGET)} events/s",
            verdict(ok_rebuild),
        ),
        (
            f"`GET /api/v1/teams/{{id}}/levers`, 12 weeks, random team ({READS} requests)",
            f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms",
            f"{min(team_reads) * 1000:.1f} ms to {max(team_reads) * 1000:.1f} ms",
            f"p99 ≤ {P99_TARGET * 1000:.0f} ms",
            verdict(ok_p99),
        ),
        (
            f"`GET /api/v1/org/levers`, 12 weeks, {seeded.teams} teams ({ORG_READS} requests)",
            f"p50 {median(org_reads) * 1000:.0f} ms",
            f"{min(org_reads) * 1000:.0f} ms to {max(org_reads) * 1000:.0f} ms",
            "",
            "",
        ),
    ]
    method = (
        f"Method: `infra.synthetic.seed_synthetic` wrote {fmt_int(seeded.events)} events "
        f"({PEOPLE:,} people in {seeded.teams} teams of {TEAM_SIZE}, {WEEKS} weeks, "
        f"{MEETINGS} meetings per person and week), untimed. The rebuild is "
        '`Runtime.rebuild("levers")` into shadow tables and the switch. Reads go through the '
        "Flask app in-process (no socket) as the organisation's admin; every response is "
        "suppressed server-side (k = 5)."
    )
    return Section.build(
        TITLE,
        ok_rebuild and ok_p99,
        [(("Measure", "Median", "Range", "Target", "Result"), rows)],
        method,
        timings,
        ctx.machine.markdown(),
        {"handled": handled, "rebuild_seconds": rebuilds, "p50": p50, "p99": p99},
    )


def _reads(ctx: Context, master_key: str, admin_email: str) -> tuple[list[float], list[float]]:
    from services.gateway import create_app

    settings = Settings(
        database_url=ctx.database_url,
        master_keys=(master_key,),
        secret_key="bench-" + uuid.uuid4().hex,
        log_level="WARNING",
    )
    app = create_app({"COMPOUND_SETTINGS": settings, "RATELIMIT_ENABLED": False})
    client = app.test_client()
    token = client.post(
        "/api/v1/auth/token", json={"email": admin_email, "password": "compound-demo"}
    ).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    teams = [t["id"] for t in client.get("/api/v1/teams", headers=headers).get_json()]
    now = datetime.now(UTC)
    query = {"from": iso_week_of(now - timedelta(weeks=11)), "to": iso_week_of(now)}
    rng = random.Random(5)
    team_reads: list[float] = []
    for i in range(WARMUP + READS):
        path = f"/api/v1/teams/{rng.choice(teams)}/levers"
        started = time.perf_counter()
        response = client.get(path, headers=headers, query_string=query)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        if i >= WARMUP:
            team_reads.append(elapsed)
    org_reads: list[float] = []
    for _ in range(ORG_READS):
        started = time.perf_counter()
        response = client.get("/api/v1/org/levers", headers=headers, query_string=query)
        org_reads.append(time.perf_counter() - started)
        assert response.status_code == 200
    app.extensions["compound"].close()
    return team_reads, org_reads
