"""Manager lever dashboards (issue 7): server time per dashboard page for an organisation of
10,000 people (target: 300 ms or less).

The organisation is :func:`infra.synthetic.seed_synthetic`'s, as in ``bench/levers.py``:
:data:`PEOPLE` people in teams of :data:`TEAM_SIZE` over :data:`WEEKS` weeks with
:data:`MEETINGS` calendar meetings per person and week (untimed), projected by the levers
projection. A team's manager and the organisation's admin log in through the login form;
every closed week is released (as the scheduler publishes them), and the pages read the
releases. Each page is requested in-process through Flask's test client (authentication,
authorization, the organisation's k, the released figures, the page's tables, rendering; no
network, no browser): warm, ``rounds`` x :data:`REQUESTS` times after two warm-up requests, a
random team of the organisation each time for the team pages; cold, ``rounds`` x
:data:`COLD_REQUESTS` times, each the first request of a new application (a process that
has served nothing: no pooled connection but the login's, templates not compiled).
"""

from __future__ import annotations

import random
import re
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from bench.common import Context, Section, fmt_int, fresh_database, median, percentile, verdict
from infra.synthetic import seed_synthetic
from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing, generate_master_key
from shared.projections.levers import LeversProjection
from shared.projections.runtime import Runtime
from shared.releases.projection import ReleasesProjection
from shared.releases.publish import publish_tenant
from shared.settings import Settings

TITLE = "Lever dashboards (issue 7)"
PEOPLE = 10_000
TEAM_SIZE = 10  # 1,000 teams
WEEKS = 30  # the lever detail shows 26
MEETINGS = 3
REQUESTS = 10
COLD_REQUESTS = 3  # first requests of a new application per round
TARGET_MS = 300.0
PASSWORD = "compound-demo"
CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')
TEAM_PAGES = (
    ("Team overview (manager)", "/dashboards/teams/{team}"),
    ("Lever detail: psychological safety", "/dashboards/teams/{team}/levers/psychological_safety"),
    ("Lever detail: time pressure", "/dashboards/teams/{team}/levers/time_pressure"),
    ("Team overview CSV", "/dashboards/teams/{team}/export.csv"),
)
ORG_PAGES = (
    ("Organisation overview (admin, 1,000 teams)", "/dashboards/org"),
    ("Organisation lever detail", "/dashboards/org/levers/participation"),
    ("Organisation lever detail: time pressure", "/dashboards/org/levers/time_pressure"),
    ("Organisation overview CSV", "/dashboards/org/export.csv"),
    ("Organisation lever detail CSV", "/dashboards/org/levers/psychological_safety/export.csv"),
)


def _progress(message: str) -> None:
    print(f"  [dashboards] {message}", file=sys.stderr, flush=True)


def run(ctx: Context) -> Section:
    with fresh_database(ctx.database_url) as url:
        return _run(Context(url, ctx.machine, ctx.rounds))


def _login(app: Any, email: str) -> Any:
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True))
    assert token, "no CSRF token on /login"
    response = client.post(
        "/login", data={"csrf_token": token.group(1), "email": email, "password": PASSWORD}
    )
    assert response.status_code == 302, response.status_code
    return client


def _run(ctx: Context) -> Section:
    key = generate_master_key()
    engine = make_engine(ctx.database_url, pool_size=4)
    store = EventStore(engine, keyring=KeyRing([key]))
    timings: dict[str, float] = {}
    phase = time.perf_counter()
    seeded = seed_synthetic(
        store, PEOPLE, WEEKS, team_size=TEAM_SIZE, meetings=MEETINGS, password=PASSWORD
    )
    _progress(f"seeded {fmt_int(seeded.events)} events ({seeded.teams} teams)")
    runtime = Runtime(store, [LeversProjection(), ReleasesProjection()])
    runtime.ensure()
    runtime.catch_up("levers")
    # Pages read releases: every closed week released, as the scheduler does.
    publish_tenant(store, Settings(), seeded.tenant_id, datetime.now(UTC))
    runtime.catch_up("releases")
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()  # else the statistics roll back with the connection's transaction
        managers = conn.execute(
            text(
                "SELECT m.team_id, p.email FROM team_members m JOIN people p ON p.id = m.person_id"
                " WHERE m.is_manager AND p.tenant_id = :t ORDER BY p.email"
            ),
            {"t": seeded.tenant_id},
        ).all()
    timings["seed and projection"] = time.perf_counter() - phase
    _progress(f"projected; {len(managers)} managers")

    settings = Settings(
        database_url=ctx.database_url,
        redis_url=None,
        master_keys=(key,),
        secret_key="bench-" + uuid.uuid4().hex,
        log_level="WARNING",
    )
    rng = random.Random(7)
    phase = time.perf_counter()
    pages: list[tuple[str, str, str | None]] = [(label, path, None) for label, path in TEAM_PAGES]
    pages += [(label, path, seeded.admin_email) for label, path in ORG_PAGES]
    rows, raw, passed = [], {}, True
    for label, template, email in pages:
        timed = Timed(settings, managers, rng)
        cold = [timed.cold(template, email) for _ in range(ctx.rounds * COLD_REQUESTS)]
        warm = timed.warm(template, email, 2 + ctx.rounds * REQUESTS)
        timed.close()
        for kind, samples in (("cold", cold), ("warm", warm)):
            p50, p95 = median(samples), percentile(samples, 0.95)
            ok = p95 <= TARGET_MS
            passed = passed and ok
            raw[f"{label} ({kind})"] = {"median_ms": round(p50, 1), "p95_ms": round(p95, 1)}
            rows.append((f"{label}, {kind}", f"{p50:.1f} ms", f"{p95:.1f} ms", verdict(ok)))
            _progress(f"{label} {kind}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    timings["measurement"] = time.perf_counter() - phase
    engine.dispose()

    method = (
        f"Method: `infra.synthetic.seed_synthetic` wrote {fmt_int(seeded.events)} events "
        f"({PEOPLE:,} people in {seeded.teams} teams of {TEAM_SIZE}, {WEEKS} weeks, "
        f"{MEETINGS} meetings per person and week), projected by `levers`, untimed. Team "
        "pages are requested by the team's manager (a random team each time), organisation "
        f"pages by the admin, {ctx.rounds * REQUESTS} times each in-process through Flask's "
        "test client after two warm-up requests (warm), and "
        f"{ctx.rounds * COLD_REQUESTS} times each as the first request of a new application "
        "(cold: no pooled connection but the login's, templates not compiled). Every closed "
        "week was released first (`publish_tenant`, untimed): the pages read the releases. "
        "Server time only (authorization, the released figures, the tables, rendering). "
        "Target: p95 ≤ "
        f"{TARGET_MS:.0f} ms per page (issue 7)."
    )
    return Section.build(
        TITLE,
        passed,
        [(("Page", "Median", "p95", f"≤ {TARGET_MS:.0f} ms"), rows)],
        method,
        timings,
        ctx.machine.markdown(),
        raw,
    )


class Timed:
    """Timed page requests against applications of the run's settings.

    Parameters:
        settings: the applications' settings.
        managers: (team id, manager's email) of every team.
        rng: picks a random team (and its manager) for the team pages.
    """

    def __init__(self, settings: Settings, managers: Sequence[Any], rng: random.Random) -> None:
        self.settings, self.managers, self.rng = settings, managers, rng
        self.app = self._app()
        self.clients: dict[str, Any] = {}

    def _app(self) -> Any:
        from services.gateway import create_app

        return create_app({"COMPOUND_SETTINGS": self.settings, "RATELIMIT_ENABLED": False})

    def _path(self, template: str, email: str | None) -> tuple[str, str]:
        if email is not None:
            return email, template
        team, manager = self.rng.choice(self.managers)
        return manager, template.format(team=team)

    def cold(self, template: str, email: str | None) -> float:
        """One request, the first of a new application (after its login).

        Parameters:
            template: the page's path (``{team}`` for a team page).
            email: who asks (None: the manager of a random team).

        Returns:
            Its server time in milliseconds.
        """
        app = self._app()
        try:
            who, path = self._path(template, email)
            return _timed_get(_login(app, who), path)
        finally:
            app.extensions["compound"].close()

    def warm(self, template: str, email: str | None, count: int) -> list[float]:
        """``count`` requests of one application, the first two untimed (warm-up).

        Parameters:
            template: the page's path (``{team}`` for a team page).
            email: who asks (None: the manager of a random team each time).
            count: how many requests.

        Returns:
            The server times of all but the first two, in milliseconds.
        """
        samples = []
        for i in range(count):
            who, path = self._path(template, email)
            if who not in self.clients:
                self.clients[who] = _login(self.app, who)
            took = _timed_get(self.clients[who], path)
            if i >= 2:
                samples.append(took)
        return samples

    def close(self) -> None:
        """Release the warm application's connections."""
        self.app.extensions["compound"].close()


def _timed_get(client: Any, path: str) -> float:
    t0 = time.perf_counter()
    status = client.get(path).status_code
    took = (time.perf_counter() - t0) * 1000
    assert status == 200, (path, status)
    return took
