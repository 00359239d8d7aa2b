"""The organisation's pages read only what they show (``read_org_releases`` with ``teams``):
an overview each top-level team's levers of its one week, the same as the whole read gives;
a lever detail no team; the organisation's own weeks alike in all three."""

from __future__ import annotations

from sqlalchemy import text

from shared.eventlog import EventStore
from shared.releases.reads import read_org_releases
from tests.dashboards.conftest import Dash


def test_the_teams_of_one_week_are_those_of_the_whole_read(store: EventStore, dash: Dash):
    tenant = dash.world.tenant
    with store.engine.connect() as conn:
        last = conn.execute(
            text("SELECT max(week_index) FROM lever_releases WHERE tenant_id = :t"), {"t": tenant}
        ).scalar_one()
        assert last is not None, "the dashboards' organisation has no release"
        first = last - 11
        whole = read_org_releases(conn, tenant, first, last, 5)
        shown = read_org_releases(conn, tenant, first, last, 5, teams="last")
        none = read_org_releases(conn, tenant, first, last, 5, teams="none")
    assert whole["weeks"] == shown["weeks"] == none["weeks"]
    assert none["teams"] == [] and len(whole["teams"]) == len(shown["teams"]) >= 2
    for full, one in zip(whole["teams"], shown["teams"], strict=True):
        assert (one["team_id"], one["name"]) == (full["team_id"], full["name"])
        assert len(one["weeks"]) == 1
        assert one["weeks"][0]["week"] == full["weeks"][-1]["week"]
        assert one["weeks"][0]["released"] == full["weeks"][-1]["released"]
        assert one["weeks"][0]["levers"] == full["weeks"][-1]["levers"]
    assert any(t["weeks"][0]["released"] for t in shown["teams"]), "no team's week released"
