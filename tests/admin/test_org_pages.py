"""The console's settings, teams, audit and integrations pages."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import replace

import pytest

from services.gateway.admin.reads import team_size, team_tree
from shared.commands import JournalCommands
from shared.settings import Settings
from tests.admin.conftest import CSRF, Console, log_in
from tests.conftest import gateway_for_tests

pytestmark = pytest.mark.integration


def _settings(console: Console) -> list[dict]:
    return [e.data for e in console.events("OrganizationSettingsChanged")]


def test_each_setting_changes_alone(console: Console):
    page = console.page("/admin/settings")
    assert "The smallest group any manager view shows" in page and "sso-settings" in page
    for bad in ({"k": "2"}, {"k": "three"}, {"pulse_cadence_weeks": "3"}, {}):
        response = console.post("/admin/settings", bad)
        assert response.status_code == 422, bad
        assert 'class="error' in response.get_data(as_text=True)
    assert _settings(console) == []  # nothing written
    assert console.post("/admin/settings", {"k": "4"}).status_code == 302
    assert _settings(console)[-1] == {
        "k": 4,
        "pulse_cadence_weeks": 1,
        "require_totp": False,
        "default_locale": "en",
    }
    assert console.post("/admin/settings", {"pulse_cadence_weeks": "2"}).status_code == 302
    form = {"require_totp_form": "1", "require_totp": "on"}
    assert console.post("/admin/settings", form).status_code == 302
    assert _settings(console)[-1] == {
        "k": 4,
        "pulse_cadence_weeks": 2,
        "require_totp": True,
        "default_locale": "en",
    }
    assert console.post("/admin/settings", {"require_totp_form": "1"}).status_code == 302
    assert _settings(console)[-1]["require_totp"] is False
    assert 'value="4"' in console.page("/admin/settings?saved=k")


def test_the_team_tree_sizes_and_managers(console: Console):
    org = console.org
    assert console.post("/admin/teams", {"name": "Engineering"}).status_code == 302
    engineering = console.events("TeamCreated")[-1].data["team_id"]
    form = {"name": "Mobile", "parent_team_id": engineering}
    assert console.post("/admin/teams", form).status_code == 302
    assert console.events("TeamCreated")[-1].data["parent_team_id"] == engineering
    for bad in ({"name": ""}, {"name": "x" * 201}, {"name": "X", "parent_team_id": "nope"}):
        assert console.post("/admin/teams", bad).status_code == 422
    other_parent = {"name": "X", "parent_team_id": "00000000-0000-4000-8000-000000000000"}
    assert console.post("/admin/teams", other_parent).status_code == 422
    assert len(console.events("TeamCreated")) == 4
    page = console.page("/admin/teams")
    assert page.index('data-team="Engineering" data-depth="0"') < page.index(
        'data-team="Mobile" data-depth="1"'
    )
    assert page.count("below k: levers hidden") == 4  # 2 people a team; k = 5 by default
    path = f"/admin/teams/{org.teams['payments']}/managers"
    response = console.post(path, {"email": "nobody@nowhere.example"})
    assert response.status_code == 422
    assert "Nobody in the organisation" in response.get_data(as_text=True)
    assert console.post(path, {"email": org.emails["platform-2"].upper()}).status_code == 302
    manager = str(org.people["platform-2"])
    assert console.events("TeamManagerAssigned")[-1].data["person_id"] == manager
    assert "Platform-2" in console.page(f"/admin/teams/{org.teams['payments']}")
    remove = f"/admin/teams/{org.teams['payments']}/managers/{manager}/remove"
    assert console.post(remove).status_code == 302
    assert console.post(remove).status_code == 409  # not a manager of it any more
    assert console.events("TeamManagerRemoved")[-1].data["person_id"] == manager


def test_one_teams_size_is_its_total_in_the_tree(console: Console):
    """``team_size`` (a dashboard's under-k note) counts as the tree does, teams below
    included, without reading the whole organisation."""
    org = console.org
    with console.store.engine.connect() as conn:
        flat = {node.id: node.total for node in team_tree(conn, org.tenant_id)}
    parent, child = org.teams["platform"], org.teams["payments"]
    commands = console.commands
    commands.move_team(console.admin, child, parent)
    with console.store.engine.connect() as conn:
        tree = team_tree(conn, org.tenant_id)
        assert {n.id: team_size(conn, org.tenant_id, n.id) for n in tree} == {
            n.id: n.total for n in tree
        }
        assert team_size(conn, org.tenant_id, parent) == flat[parent] + flat[child] > flat[parent]
        assert team_size(conn, uuid.uuid4(), parent) == 0  # another organisation's team


def test_teams_are_renamed_and_moved_and_cycles_refused(console: Console):
    org = console.org
    console.post("/admin/teams", {"name": "Engineering"})
    engineering = console.events("TeamCreated")[-1].data["team_id"]
    platform = str(org.teams["platform"])
    assert console.post(f"/admin/teams/{platform}/rename", {"name": " Core "}).status_code == 302
    assert console.events("TeamRenamed")[-1].data["name"] == "Core"
    assert console.post(f"/admin/teams/{platform}/rename", {"name": ""}).status_code == 422
    move = {"parent_team_id": engineering}
    assert console.post(f"/admin/teams/{platform}/move", move).status_code == 302
    page = console.page("/admin/teams")
    assert 'data-team="Core" data-depth="1"' in page
    before = len(console.events("TeamMoved"))
    # Engineering under Core (below it), or under itself: a cycle, refused with why.
    for parent in (platform, engineering):
        response = console.post(f"/admin/teams/{engineering}/move", {"parent_team_id": parent})
        assert response.status_code == 422
        assert "a team cannot be inside itself" in response.get_data(as_text=True)
    assert len(console.events("TeamMoved")) == before
    # The move form offers no team that would make a cycle.
    page = console.page(f"/admin/teams/{engineering}")
    assert f'<option value="{platform}"' not in page
    assert console.post(f"/admin/teams/{platform}/move", {"parent_team_id": ""}).status_code == 302
    assert console.events("TeamMoved")[-1].data["parent_team_id"] is None
    audit = console.page("/admin/audit?kind=organisation")
    assert "TeamRenamed" in audit and "name: Core" in audit and "parent: none" in audit


def test_the_audit_names_who_did_what_and_never_personal_content(console: Console, app):
    org = console.org
    console.post("/admin/settings", {"k": "6"})
    console.post(f"/admin/people/{org.people['payments-1']}/role", {"role": "manager"})
    journal: JournalCommands = app.extensions["compound"].journal
    from shared.commands import Actor

    employee = Actor(org.tenant_id, org.people["platform-1"], source="test")
    journal.log_action(employee, "learning_bit", 5, "private", "SECRET-NOTE-42")
    page = console.page("/admin/audit")
    assert "OrganizationSettingsChanged" in page and "k: 6" in page
    assert "Settings changed" in page and ">Organisation and teams</option>" in page
    assert "PersonRoleChanged" in page and org.emails["payments-1"] in page
    assert org.emails["admin"] in page and "SECRET-NOTE-42" not in page
    assert "MicroActionLogged" not in page
    page = console.page("/admin/audit?kind=organisation")
    assert "k: 6" in page and "PersonRoleChanged" not in page
    page = console.page(
        f"/admin/audit?actor={org.emails['admin']}&since=2000-01-01&until=9999-12-31"
    )
    assert "PersonRoleChanged" in page
    assert "No entries" in console.page("/admin/audit?actor=someone@else.example")
    assert "No entries" in console.page("/admin/audit?until=2000-01-01")
    assert console.client.get("/admin/audit?since=yesterday").status_code == 422
    response = console.client.get("/admin/audit.csv?kind=people")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["position", "recorded_at", "who", "source", "event"]
    assert any(r[4] == "PersonRoleChanged" and "role: manager" in r[6] for r in rows[1:])
    assert "SECRET-NOTE-42" not in response.get_data(as_text=True)


def test_integrations_show_counts_only(console: Console):
    page = console.page("/admin/integrations")
    assert "Set up Google Calendar" in page and "identity-integrations" in page


def test_operations_for_the_operators_admins_only(console: Console, settings: Settings):
    assert console.client.get("/admin/operations").status_code == 403
    assert 'href="/admin/operations"' not in console.page("/admin/people")
    apps = gateway_for_tests(replace(settings, operator_orgs=(str(console.org.tenant_id),)))
    app = next(apps)
    try:
        client = app.test_client()
        log_in(client, console.org.emails["admin"], console.org.password)
        page = client.get("/admin/operations").get_data(as_text=True)
        assert "capital" in page and "events," in page
        assert 'href="/admin/operations"' in client.get("/admin/people").get_data(as_text=True)
        match = CSRF.search(page)
        assert match
        response = client.post("/admin/operations/nope/rebuild", data={"csrf_token": match[1]})
        assert response.status_code == 404
        response = client.post("/admin/operations/capital/rebuild", data={"csrf_token": match[1]})
        assert response.status_code == 302 and "rebuild=capital" in response.headers["Location"]
    finally:
        next(apps, None)
