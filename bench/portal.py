"""Portal pages: server time per page for the demo employee (target: under 300 ms).

Seeds the demo organisation (``compound seed --demo``: 12 weeks of history), projects it,
logs in as ``ada@demo.test`` through the login form and times each page's GET in-process
(Flask's test client: the server's time, without network or browser). Medians and p95 over
``rounds`` x :data:`REQUESTS` requests after two warm-up requests per page.
"""

from __future__ import annotations

import re
import time
import uuid

from bench.common import Context, Section, median, percentile, verdict
from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing, generate_master_key
from shared.projections import runtime
from shared.settings import Settings

TITLE = "Portal pages"
TARGET_MS = 300.0
REQUESTS = 10
PAGES = (
    ("Today", "/"),
    ("Week plan", "/plan"),
    ("Experiments", "/experiments"),
    ("Micro-feedback", "/feedback"),
    ("Outcomes", "/outcomes"),
    ("My capital", "/capital"),
    ("My actions", "/history"),
    ("Pulse", "/pulse"),
    ("Account", "/account"),
    ("My data", "/data"),
    ("Export (JSON)", "/data/export.json"),
)
PASSWORD = "compound-demo"
CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')


def run(ctx: Context) -> Section:
    from infra.seed import demo_exists, seed_demo
    from services.gateway import create_app

    started = time.perf_counter()
    key, secret = generate_master_key(), "bench-" + uuid.uuid4().hex
    engine = make_engine(ctx.database_url, pool_size=4)
    store = EventStore(engine, keyring=KeyRing([key]))
    if demo_exists(store):
        raise RuntimeError("the run's database holds a demo organisation already")
    seeded = seed_demo(store, secret, PASSWORD)
    rt = runtime(store)
    rt.ensure()
    for name in rt.projections:
        rt.catch_up(name)
    seeding = time.perf_counter() - started

    settings = Settings(
        database_url=ctx.database_url,
        redis_url=None,
        master_keys=(key,),
        secret_key=secret,
        log_level="WARNING",
    )
    app = create_app({"COMPOUND_SETTINGS": settings, "RATELIMIT_ENABLED": False})
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = CSRF.search(login_page)
    assert token, "no CSRF token on /login"
    login = {"email": seeded.logins["employee"], "password": PASSWORD}
    response = client.post("/login", data={"csrf_token": token.group(1), **login})
    assert response.status_code == 302, response.status_code

    timing_started = time.perf_counter()
    rows, raw, passed = [], {}, True
    for label, path in PAGES:
        for _ in range(2):  # warm-up: templates compiled, connections pooled
            assert client.get(path).status_code == 200, path
        samples = []
        for _ in range(ctx.rounds * REQUESTS):
            t0 = time.perf_counter()
            status = client.get(path).status_code
            samples.append((time.perf_counter() - t0) * 1000)
            assert status == 200, (path, status)
        p50, p95 = median(samples), percentile(samples, 0.95)
        ok = p95 < TARGET_MS
        passed = passed and ok
        raw[path] = {"median_ms": round(p50, 1), "p95_ms": round(p95, 1)}
        rows.append((label, f"`{path}`", f"{p50:.1f} ms", f"{p95:.1f} ms", verdict(ok)))
    measuring = time.perf_counter() - timing_started
    app.extensions["compound"].close()
    engine.dispose()

    method = (
        f"Method: the demo organisation (`compound seed --demo`, {seeded.events} journal events "
        f"and pulse responses over 12 weeks) is projected, then `{seeded.logins['employee']}` "
        f"logs in and each page is requested {ctx.rounds * REQUESTS} times in-process through "
        "Flask's test client after two warm-up requests: server time only (rendering "
        "included; no network, no browser). Target: p95 under "
        f"{TARGET_MS:.0f} ms per page (issue 6)."
    )
    return Section.build(
        TITLE,
        passed,
        [(("Page", "Path", "Median", "p95", f"< {TARGET_MS:.0f} ms"), rows)],
        method,
        {"seed and projection": seeding, "measurement": measuring},
        ctx.machine.markdown(),
        raw,
    )
