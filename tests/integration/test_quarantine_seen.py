"""Where a quarantined tenant is seen, on real PostgreSQL and Redis: its admins' dashboards (a
banner, nothing of another organisation), ``compound projections status``, ``/metrics``, one
structured warning in the logs; and ``compound projections retry NAME --tenant ID``."""

from __future__ import annotations

import logging
import re
import uuid

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from services.cli.read_models import projections
from shared.eventlog import EventStore
from shared.projections import runtime
from shared.projections.capital import CapitalProjection
from shared.projections.runtime import Runtime
from shared.settings import Settings
from tests.conftest import DemoOrg, make_org
from tests.contract.contract import start_at_head
from tests.integration.poisoned import poisoned
from tests.integration.test_quarantine import action

pytestmark = pytest.mark.integration

CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')


def login(app: Flask, org: DemoOrg, who: str) -> FlaskClient:
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True))
    assert token
    response = client.post(
        "/login",
        data={"csrf_token": token.group(1), "email": org.emails[who], "password": org.password},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def gauges(client: FlaskClient, name: str) -> dict[str, float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        s.labels["projection"]: s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
        if s.name == name
    }


def test_a_quarantine_is_seen_by_the_tenants_admins_the_operator_and_metrics(
    app: Flask,
    store: EventStore,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = make_org(store, people_per_team=1), make_org(store, people_per_team=1)
    bad: set[str] = set()
    projection = poisoned(CapitalProjection(), f"s{uuid.uuid4().hex[:8]}", bad)
    start_at_head(store, [projection])
    person = b.people["platform-1"]
    store.append(b.tenant_id, f"journal-{person}", None, [action(person, 1)])
    poison = store.append(b.tenant_id, f"journal-{person}", None, [action(person, 2)])
    bad.add(str(poison.event_ids[0]))
    store.append(b.tenant_id, f"journal-{person}", None, [action(person, 3)])
    rt = Runtime(store, [projection], batch=100)
    with caplog.at_level(logging.WARNING, logger="compound.projections"):
        rt.catch_up(projection.name)
        rt.catch_up(projection.name)  # nothing new: no second warning
    (warning,) = [r for r in caplog.records if getattr(r, "quarantine", None)]
    assert f"tenant_id='{b.tenant_id}'" in warning.getMessage()
    assert warning.quarantine == {  # type: ignore[attr-defined]
        "projection": projection.name,
        "tenant_id": str(b.tenant_id),
        "position": poison.positions[0],
        "event_id": str(poison.event_ids[0]),
        "event_type": "MicroActionLogged",
        "error": f"PoisonError: cannot apply MicroActionLogged at {poison.positions[0]}",
    }

    # B's admin sees which read model waits since when; A's admin and B's manager see nothing.
    runtime(store).ensure()  # the pages read releases: their table exists, as in production
    page = login(app, b, "admin").get("/dashboards/org").get_data(as_text=True)
    assert "data-waiting" in page and f'data-projection="{projection.name}"' in page
    assert f"MicroActionLogged {poison.event_ids[0]}" in page and "2 of your events" in page
    assert "position" not in page.split("data-waiting")[1].split("</section>")[0]  # global
    assert str(a.tenant_id) not in page
    assert "data-waiting" not in login(app, a, "admin").get("/dashboards/org").get_data(True)
    manager = login(app, b, "platform-manager")
    team_page = manager.get(f"/dashboards/teams/{b.teams['platform']}").get_data(as_text=True)
    assert "data-waiting" not in team_page

    # The operator: /metrics and `compound projections status`.
    client = app.test_client()
    assert gauges(client, "compound_projection_quarantined_tenants")[projection.name] == 1.0
    assert gauges(client, "compound_projection_held_events")[projection.name] == 2.0
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("COMPOUND_MASTER_KEYS", ",".join(settings.master_keys))
    monkeypatch.setenv("COLUMNS", "400")  # rich's table: every cell on one line
    status = CliRunner().invoke(projections, ["status"], terminal_width=400)
    assert status.exit_code == 0, status.output
    assert str(b.tenant_id) in status.output and "PoisonError" in status.output

    # The fix, then `compound projections retry NAME --tenant ID`.
    bad.clear()
    monkeypatch.setattr(
        "shared.bootstrap.projection_runtime",
        lambda store, ensure=True: Runtime(store, [projection]),
    )
    retried = CliRunner().invoke(
        projections, ["retry", projection.name, "--tenant", str(b.tenant_id)]
    )
    assert retried.exit_code == 0, retried.output
    assert "released, 2 held events applied" in retried.output
    assert gauges(client, "compound_projection_quarantined_tenants")[projection.name] == 0.0
    assert "data-waiting" not in login(app, b, "admin").get("/dashboards/org").get_data(True)
    again = CliRunner().invoke(
        projections, ["retry", projection.name, "--tenant", str(b.tenant_id)]
    )
    assert again.exit_code == 1 and "not quarantined" in again.output
