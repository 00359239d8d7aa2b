"""The releases benchmark (issue 17): publishing one closed week of an organisation of
:data:`PEOPLE` people in teams of :data:`TEAM_SIZE` (1,000 teams), target 60 s; and a second
run over the same weeks, which must compute nothing (closed weeks are never recomputed).

The organisation is :func:`infra.synthetic.seed_synthetic` (untimed), projected (untimed).
Publishing reads the week's eligible populations, computes and noises every figure with
OpenDP, and appends one ``LeverReleasePublished`` per team and the organisation's, in one
transaction (``shared/releases/publish.py``).
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as day_time

from sqlalchemy import text

from bench.common import Context, Section, fmt_int, fresh_database, verdict
from infra.synthetic import seed_synthetic
from shared.database import make_engine
from shared.domain.weeks import week_monday
from shared.eventlog import EventStore, KeyRing, generate_master_key
from shared.projections.levers import LeversProjection
from shared.projections.runtime import Runtime
from shared.releases.publish import publish_tenant
from shared.settings import Settings

TITLE = "Releases (issue 17)"
PEOPLE = 10_000
TEAM_SIZE = 10  # 1,000 teams
WEEKS = 3
MEETINGS = 3  # per person and week
TARGET = 60.0  # seconds to release one week


def _progress(message: str) -> None:
    print(f"  [releases] {message}", file=sys.stderr, flush=True)


def run(ctx: Context) -> Section:
    with fresh_database(ctx.database_url) as url:
        return _run(Context(url, ctx.machine, ctx.rounds))


def _run(ctx: Context) -> Section:
    engine = make_engine(ctx.database_url, pool_size=4)
    store = EventStore(engine, keyring=KeyRing([generate_master_key()]))
    timings: dict[str, float] = {}
    settings = Settings(release_grace_hours=24)
    try:
        phase = time.perf_counter()
        seeded = seed_synthetic(store, PEOPLE, WEEKS, team_size=TEAM_SIZE, meetings=MEETINGS)
        runtime = Runtime(store, [LeversProjection()])
        runtime.ensure()
        runtime.catch_up("levers")
        with engine.connect() as conn:
            first = conn.execute(
                text("SELECT min(week_index) FROM lever_team_weeks WHERE tenant_id = :t"),
                {"t": seeded.tenant_id},
            ).scalar_one()
            conn.execute(text("ANALYZE"))
            conn.commit()
        timings["seeding and projecting"] = time.perf_counter() - phase
        # The moment the first week with data (and only it) is due.
        due = datetime.combine(week_monday(first + 1), day_time(), tzinfo=UTC)
        due += timedelta(hours=25)
        phase = time.perf_counter()
        done = publish_tenant(store, settings, seeded.tenant_id, due)
        one_week = time.perf_counter() - phase
        phase = time.perf_counter()
        again = publish_tenant(store, settings, seeded.tenant_id, due)
        second = time.perf_counter() - phase
        timings["publishing"] = one_week + second
    finally:
        engine.dispose()
    _progress(f"{done.releases} releases in {one_week:.1f} s; again: {again.releases}")
    ok = done.weeks == 1 and one_week <= TARGET
    ok_again = again.releases == 0
    rows = [
        (
            f"Release one week: {fmt_int(PEOPLE)} people, {fmt_int(seeded.teams)} teams "
            f"({fmt_int(done.releases)} releases)",
            f"{one_week:.1f} s",
            f"≤ {TARGET:.0f} s",
            verdict(ok),
        ),
        (
            "Publish again (the week is released: nothing computed)",
            f"{second * 1000:.0f} ms, {again.releases} releases",
            "0 releases",
            verdict(ok_again),
        ),
    ]
    method = (
        f"`infra.synthetic.seed_synthetic` ({fmt_int(PEOPLE)} people in teams of {TEAM_SIZE}, "
        f"{WEEKS} weeks, {MEETINGS} meetings per person and week), the levers projection caught "
        "up, then `publish_tenant` at the moment the first week is due (one round: a week is "
        "released once), and again."
    )
    return Section.build(
        TITLE,
        ok and ok_again,
        [(("Measure", "Time", "Target", "Result"), rows)],
        method,
        timings,
        ctx.machine.markdown(),
        {"one_week_seconds": one_week, "releases": done.releases, "again": again.releases},
    )
