"""Who may call what: every endpoint of the API, called by every kind of caller.

``ALLOWED`` is the contract: for each endpoint, the callers that get a 2xx. Everybody else
is refused with 401 (no credentials), 403 (not theirs to do) or 404 (not theirs to see).
``test_every_route_is_in_the_matrix`` fails when an endpoint joins the spec without a row
here, so the matrix grows with the API.

The callers, relative to one employee (the "subject", platform-1 or someone created for the
test when the call destroys what it touches):

* ``anonymous``: no credentials at all;
* ``employee``: the subject themself;
* ``colleague``: an employee of another team;
* ``manager``: the manager of the subject's team; ``other_manager``: of another team;
* ``admin``: an admin of the organisation;
* ``other_tenant_admin``: the admin of another organisation (tenant).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.gateway.feedback import feedback_token
from shared import sessions
from shared.commands import Actor, JournalCommands, OrganizationCommands
from shared.commands.absences import declare_absence
from shared.domain.weeks import iso_week_of
from shared.eventlog import EventStore
from shared.sessions import Lifetimes
from tests.api.conftest import Headers, Person, admin_actor, bearer
from tests.conftest import DemoOrg

pytestmark = pytest.mark.integration

Route = tuple[str, str]

CALLERS = (
    "anonymous",
    "employee",
    "colleague",
    "manager",
    "other_manager",
    "admin",
    "other_tenant_admin",
)
EVERYONE = frozenset(CALLERS)
SIGNED_IN = EVERYONE - {"anonymous"}

ALLOWED: dict[Route, frozenset[str]] = {
    ("POST", "/api/v1/auth/token"): EVERYONE,
    ("GET", "/api/v1/me"): SIGNED_IN,
    ("GET", "/api/v1/me/capital"): SIGNED_IN,
    ("GET", "/api/v1/me/experiments"): SIGNED_IN,
    ("GET", "/api/v1/me/feedback"): SIGNED_IN,
    ("GET", "/api/v1/me/plan/{isoweek}"): SIGNED_IN,
    # A token never mints a token: only the portal's session cookie (tests/api/test_sessions.py).
    ("POST", "/api/v1/me/tokens"): frozenset(),
    ("GET", "/api/v1/me/tokens"): SIGNED_IN,
    ("GET", "/api/v1/me/sessions"): SIGNED_IN,
    ("DELETE", "/api/v1/me/sessions/{session_id}"): frozenset({"employee"}),
    ("POST", "/api/v1/me/sessions:end-all"): SIGNED_IN,  # each caller's own (a fresh token)
    ("GET", "/api/v1/me/working-hours"): SIGNED_IN,
    ("PUT", "/api/v1/me/working-hours"): SIGNED_IN,
    ("POST", "/api/v1/me/absences"): SIGNED_IN,
    ("GET", "/api/v1/me/absences"): SIGNED_IN,
    ("DELETE", "/api/v1/me/absences/{absence_id}"): frozenset({"employee"}),
    ("DELETE", "/api/v1/me/tokens/{token_id}"): frozenset({"employee", "admin"}),
    ("POST", "/api/v1/actions"): SIGNED_IN,
    ("POST", "/api/v1/actions/{action_id}/undo"): frozenset({"employee"}),
    ("GET", "/api/v1/me/export"): SIGNED_IN,
    ("POST", "/api/v1/outcomes"): SIGNED_IN,
    ("POST", "/api/v1/plans/{isoweek}"): SIGNED_IN,
    ("POST", "/api/v1/experiments"): SIGNED_IN,
    ("POST", "/api/v1/experiments/{experiment_id}/end"): frozenset({"employee"}),
    ("POST", "/api/v1/feedback-requests"): SIGNED_IN,
    # A manager does not answer the pulse of the team they lead (issue #17: respondents > members).
    ("POST", "/api/v1/pulse"): frozenset({"employee"}),
    ("GET", "/api/v1/teams"): SIGNED_IN,
    ("POST", "/api/v1/teams"): frozenset({"admin"}),
    ("POST", "/api/v1/teams/{team_id}/managers"): frozenset({"admin"}),
    ("POST", "/api/v1/invitations"): frozenset({"admin"}),
    # Each admin lists the people of their own organisation (see the cross-tenant tests).
    ("GET", "/api/v1/people"): frozenset({"admin", "other_tenant_admin"}),
    ("DELETE", "/api/v1/people/{person_id}"): frozenset({"employee", "admin"}),
    ("POST", "/api/v1/people/{person_id}/role"): frozenset({"admin"}),
    ("POST", "/api/v1/people/{person_id}/team"): frozenset({"admin"}),
    ("POST", "/api/v1/people/{person_id}/leave"): frozenset({"admin"}),
    ("DELETE", "/api/v1/people/{person_id}/second-factor"): frozenset({"admin"}),
    ("POST", "/api/v1/events:import"): frozenset({"admin"}),
    # Levers: managers of the team (or of a team above it) and admins; never employees.
    ("GET", "/api/v1/teams/{team_id}/levers"): frozenset({"manager", "admin"}),
    # Each admin sees and sets their own organisation's levers and settings.
    ("GET", "/api/v1/org/levers"): frozenset({"admin", "other_tenant_admin"}),
    ("GET", "/api/v1/org/settings"): frozenset({"admin", "other_tenant_admin"}),
    ("PUT", "/api/v1/org/settings"): frozenset({"admin", "other_tenant_admin"}),
    ("PATCH", "/api/v1/org/settings"): frozenset({"admin", "other_tenant_admin"}),
    # Each admin their own organisation's single sign-on and SCIM tokens.
    ("GET", "/api/v1/org/sso"): frozenset({"admin", "other_tenant_admin"}),
    ("PUT", "/api/v1/org/sso"): frozenset({"admin", "other_tenant_admin"}),
    ("DELETE", "/api/v1/org/sso"): frozenset({"admin", "other_tenant_admin"}),
    ("GET", "/api/v1/org/scim-tokens"): frozenset({"admin", "other_tenant_admin"}),
    ("POST", "/api/v1/org/scim-tokens"): frozenset({"admin", "other_tenant_admin"}),
    ("DELETE", "/api/v1/org/scim-tokens/{token_id}"): frozenset({"admin"}),
    # Projections are shared by every organisation: only admins of the operators'
    # organisations (COMPOUND_OPERATOR_ORGS) see or rebuild them, and the test app names none
    # (tests/api/test_operator_scope.py has an operator organisation's admin).
    ("GET", "/api/v1/projections"): frozenset(),
    ("POST", "/api/v1/projections/{name}/rebuild"): frozenset(),
    # Confirmations: only the party the subject's item names (the colleague, payments-1).
    ("POST", "/api/v1/outcomes/{outcome_id}/confirmation"): frozenset({"colleague"}),
    ("POST", "/api/v1/actions/{action_id}/confirmation"): frozenset({"colleague"}),
    ("POST", "/api/v1/feedback-requests/{request_id}/answer"): frozenset({"colleague"}),
    # The feedback link is the credential: no login, whoever holds it.
    ("GET", "/f/{token}"): EVERYONE,
    ("POST", "/f/{token}"): EVERYONE,
}

# Routes outside the OpenAPI spec that the matrix covers too.
OUTSIDE_SPEC = frozenset({("GET", "/f/{token}"), ("POST", "/f/{token}")})

# A refusal that is not 401/403/404: an import naming a person of another organisation is
# invalid input (422, "No such person in this organisation"), reported per event.
REFUSED_AS: dict[tuple[Route, str], int] = {
    (("POST", "/api/v1/events:import"), "other_tenant_admin"): 422,
}

# Calls that destroy their subject get a person of their own.
FRESH_SUBJECT = frozenset(
    {
        ("DELETE", "/api/v1/people/{person_id}"),
        ("POST", "/api/v1/people/{person_id}/role"),
        ("POST", "/api/v1/people/{person_id}/team"),
        ("POST", "/api/v1/people/{person_id}/leave"),
    }
)


@dataclass
class World:
    """What a request is built from: the organisations and the subject of the call."""

    app: Flask
    store: EventStore
    org: DemoOrg
    other_org: DemoOrg
    subject: Person

    @property
    def journal(self) -> JournalCommands:
        """The gateway's own journal commands (its secret key signs the feedback links)."""
        journal: JournalCommands = self.app.extensions["compound"].journal
        return journal

    @property
    def subject_actor(self) -> Actor:
        return Actor(tenant_id=self.org.tenant_id, person_id=self.subject.id, source="test")

    @property
    def platform(self) -> uuid.UUID:
        return self.org.teams["platform"]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: Any = None
    headers: Headers = field(default_factory=dict)


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _revoke_token(w: World) -> Call:
    token_id, _ = OrganizationCommands(w.store).create_token(w.subject_actor, "to revoke")
    return Call("DELETE", f"/api/v1/me/tokens/{token_id}")


def _end_session(w: World) -> Call:
    session_id, _ = sessions.start(
        w.store.engine,
        w.org.tenant_id,
        w.subject.id,
        "Firefox",
        "192.0.2.1",
        datetime.now(UTC),
        Lifetimes(),
    )
    return Call("DELETE", f"/api/v1/me/sessions/{session_id}")


def _withdraw_absence(w: World) -> Call:
    today = datetime.now(UTC).date()
    declared = declare_absence(w.store, w.subject_actor, today, today)
    return Call("DELETE", f"/api/v1/me/absences/{declared.id}")


def _end_experiment(w: World) -> Call:
    started = w.journal.start_experiment(w.subject_actor, "learning_bit")
    return Call("POST", f"/api/v1/experiments/{started.id}/end", {"reflection": "done"})


def _undo_action(w: World) -> Call:
    logged = w.journal.log_action(w.subject_actor, "learning_bit", 10, "private")
    return Call("POST", f"/api/v1/actions/{logged.id}/undo")


def _feedback_link(w: World) -> str:
    asked = w.journal.request_feedback(w.subject_actor, "Was my demo clear?")
    with w.app.app_context():
        return "/f/" + feedback_token(w.org.tenant_id, w.subject.id, asked.id)


def _confirm(kind: str) -> Callable[[World], Call]:
    """A confirmation of a new item of the subject's that names the colleague (payments-1)."""

    def call(w: World) -> Call:
        named = w.org.people["payments-1"]
        if kind == "outcomes":
            item = w.journal.record_outcome(w.subject_actor, "recognition", confirmer=named).id
        else:
            item = w.journal.log_action(
                w.subject_actor, "network_nudge", 5, "team", counterpart=named
            ).id
        return Call("POST", f"/api/v1/{kind}/{item}/confirmation", {"confirmed": True})

    return call


def _answer_named_request(w: World) -> Call:
    named = w.org.people["payments-1"]
    asked = w.journal.request_feedback(w.subject_actor, "Clear?", colleague=named)
    return Call("POST", f"/api/v1/feedback-requests/{asked.id}/answer", {"useful": True})


def _assign_manager(w: World) -> Call:
    invited = OrganizationCommands(w.store).invite(admin_actor(w.org), _unique("mgr") + "@t.test")
    return Call(
        "POST", f"/api/v1/teams/{w.platform}/managers", {"person_id": str(invited.person_id)}
    )


def _import(w: World) -> Call:
    event = {
        "type": "MicroActionLogged",
        "data": {
            "action_id": str(uuid.uuid4()),
            "person_id": str(w.subject.id),
            "tactic": "learning_bit",
            "minutes": 5,
            "audience": "private",
            "note": None,
        },
    }
    return Call("POST", "/api/v1/events:import", {"events": [event]})


def _sso_body() -> dict[str, Any]:
    """A provider for a domain of its own (a domain belongs to one organisation)."""
    return {
        "issuer": "https://idp.example.com",
        "client_id": "compound",
        "client_secret": "s3cret",
        "domains": [f"{_unique('sso')}.example.com"],
    }


def _with_sso(w: World, call: Call) -> Call:
    """Both organisations have single sign-on set, so each admin finds their own."""
    from shared.sso.store import configure

    for org in (w.org, w.other_org):
        configure(w.store, admin_actor(org), _sso_body())
    return call


def _revoke_scim_token(w: World) -> Call:
    from shared.scim.tokens import issue

    token_id, _ = issue(w.store, admin_actor(w.org))
    return Call("DELETE", f"/api/v1/org/scim-tokens/{token_id}")


ACTION = {"tactic": "regular_signaling", "minutes": 10, "audience": "team"}
TODAY = datetime.now(UTC).date().isoformat()
JSON = {"Accept": "application/json"}

REQUESTS: dict[Route, Callable[[World], Call]] = {
    ("POST", "/api/v1/auth/token"): lambda w: Call(
        "POST", "/api/v1/auth/token", {"email": w.subject.email, "password": w.subject.password}
    ),
    ("GET", "/api/v1/me"): lambda w: Call("GET", "/api/v1/me"),
    ("GET", "/api/v1/me/capital"): lambda w: Call("GET", "/api/v1/me/capital"),
    ("GET", "/api/v1/me/experiments"): lambda w: Call("GET", "/api/v1/me/experiments"),
    ("GET", "/api/v1/me/feedback"): lambda w: Call("GET", "/api/v1/me/feedback"),
    ("GET", "/api/v1/me/plan/{isoweek}"): lambda w: Call(
        "GET", f"/api/v1/me/plan/{iso_week_of(datetime.now(UTC))}"
    ),
    ("POST", "/api/v1/me/tokens"): lambda w: Call("POST", "/api/v1/me/tokens", {"name": "ci"}),
    ("GET", "/api/v1/me/tokens"): lambda w: Call("GET", "/api/v1/me/tokens"),
    ("GET", "/api/v1/me/sessions"): lambda w: Call("GET", "/api/v1/me/sessions"),
    ("DELETE", "/api/v1/me/sessions/{session_id}"): _end_session,
    ("POST", "/api/v1/me/sessions:end-all"): lambda w: Call("POST", "/api/v1/me/sessions:end-all"),
    ("GET", "/api/v1/me/working-hours"): lambda w: Call("GET", "/api/v1/me/working-hours"),
    ("PUT", "/api/v1/me/working-hours"): lambda w: Call(
        "PUT",
        "/api/v1/me/working-hours",
        {"start": "08:00", "end": "16:00", "working_days": ["mon"], "time_zone": "UTC"},
    ),
    ("POST", "/api/v1/me/absences"): lambda w: Call(
        "POST", "/api/v1/me/absences", {"starts_on": TODAY, "ends_on": TODAY}
    ),
    ("GET", "/api/v1/me/absences"): lambda w: Call("GET", "/api/v1/me/absences"),
    ("DELETE", "/api/v1/me/absences/{absence_id}"): _withdraw_absence,
    ("DELETE", "/api/v1/me/tokens/{token_id}"): _revoke_token,
    ("POST", "/api/v1/actions"): lambda w: Call("POST", "/api/v1/actions", ACTION),
    ("POST", "/api/v1/actions/{action_id}/undo"): _undo_action,
    ("GET", "/api/v1/me/export"): lambda w: Call("GET", "/api/v1/me/export"),
    ("POST", "/api/v1/outcomes"): lambda w: Call(
        "POST", "/api/v1/outcomes", {"kind": "recognition"}
    ),
    ("POST", "/api/v1/plans/{isoweek}"): lambda w: Call(
        "POST",
        f"/api/v1/plans/{iso_week_of(datetime.now(UTC))}",
        {"actions": [{"tactic": "learning_bit"}]},
    ),
    ("POST", "/api/v1/experiments"): lambda w: Call(
        "POST", "/api/v1/experiments", {"tactic": "learning_bit"}
    ),
    ("POST", "/api/v1/experiments/{experiment_id}/end"): _end_experiment,
    ("POST", "/api/v1/feedback-requests"): lambda w: Call(
        "POST", "/api/v1/feedback-requests", {"question": "Was it clear?"}
    ),
    # Always the same answers: a repeat returns the first response (201), no conflict.
    ("POST", "/api/v1/pulse"): lambda w: Call(
        "POST", "/api/v1/pulse", {"answers": {"workload": 4}, "team_id": str(w.platform)}
    ),
    ("GET", "/api/v1/teams"): lambda w: Call("GET", "/api/v1/teams"),
    # Below a team of the subject's organisation: another tenant's admin must not reach it.
    ("POST", "/api/v1/teams"): lambda w: Call(
        "POST", "/api/v1/teams", {"name": _unique("team"), "parent_team_id": str(w.platform)}
    ),
    ("POST", "/api/v1/teams/{team_id}/managers"): _assign_manager,
    ("POST", "/api/v1/invitations"): lambda w: Call(
        "POST",
        "/api/v1/invitations",
        {"email": _unique("invitee") + "@t.test", "team_id": str(w.platform)},
    ),
    ("GET", "/api/v1/people"): lambda w: Call("GET", "/api/v1/people"),
    ("POST", "/api/v1/people/{person_id}/role"): lambda w: Call(
        "POST", f"/api/v1/people/{w.subject.id}/role", {"role": "manager"}
    ),
    ("POST", "/api/v1/people/{person_id}/team"): lambda w: Call(
        "POST", f"/api/v1/people/{w.subject.id}/team", {"team_id": str(w.org.teams["payments"])}
    ),
    ("POST", "/api/v1/people/{person_id}/leave"): lambda w: Call(
        "POST", f"/api/v1/people/{w.subject.id}/leave"
    ),
    ("DELETE", "/api/v1/people/{person_id}/second-factor"): lambda w: Call(
        "DELETE", f"/api/v1/people/{w.subject.id}/second-factor"
    ),
    ("DELETE", "/api/v1/people/{person_id}"): lambda w: Call(
        "DELETE", f"/api/v1/people/{w.subject.id}"
    ),
    ("POST", "/api/v1/events:import"): _import,
    ("GET", "/api/v1/teams/{team_id}/levers"): lambda w: Call(
        "GET", f"/api/v1/teams/{w.platform}/levers"
    ),
    ("GET", "/api/v1/org/levers"): lambda w: Call("GET", "/api/v1/org/levers"),
    ("GET", "/api/v1/org/settings"): lambda w: Call("GET", "/api/v1/org/settings"),
    # The defaults, so the matrix changes nothing another test relies on.
    ("PUT", "/api/v1/org/settings"): lambda w: Call(
        "PUT", "/api/v1/org/settings", {"k": 5, "pulse_cadence_weeks": 1}
    ),
    ("PATCH", "/api/v1/org/settings"): lambda w: Call("PATCH", "/api/v1/org/settings", {"k": 5}),
    ("GET", "/api/v1/org/sso"): lambda w: _with_sso(w, Call("GET", "/api/v1/org/sso")),
    ("PUT", "/api/v1/org/sso"): lambda w: Call("PUT", "/api/v1/org/sso", _sso_body()),
    ("DELETE", "/api/v1/org/sso"): lambda w: _with_sso(w, Call("DELETE", "/api/v1/org/sso")),
    ("GET", "/api/v1/org/scim-tokens"): lambda w: Call("GET", "/api/v1/org/scim-tokens"),
    ("POST", "/api/v1/org/scim-tokens"): lambda w: Call("POST", "/api/v1/org/scim-tokens"),
    ("DELETE", "/api/v1/org/scim-tokens/{token_id}"): _revoke_scim_token,
    ("GET", "/api/v1/projections"): lambda w: Call("GET", "/api/v1/projections"),
    ("POST", "/api/v1/projections/{name}/rebuild"): lambda w: Call(
        "POST", "/api/v1/projections/capital/rebuild"
    ),
    ("POST", "/api/v1/outcomes/{outcome_id}/confirmation"): _confirm("outcomes"),
    ("POST", "/api/v1/actions/{action_id}/confirmation"): _confirm("actions"),
    ("POST", "/api/v1/feedback-requests/{request_id}/answer"): _answer_named_request,
    ("GET", "/f/{token}"): lambda w: Call("GET", _feedback_link(w), headers=JSON),
    ("POST", "/f/{token}"): lambda w: Call("POST", _feedback_link(w), {"useful": True}),
}


@pytest.fixture(scope="module")
def platform_1(store: EventStore, org: DemoOrg) -> Person:
    pid = org.people["platform-1"]
    return Person(
        pid, org.emails["platform-1"], org.password, org.teams["platform"], bearer(store, org, pid)
    )


CALLER_PEOPLE = {
    "colleague": "payments-1",
    "manager": "platform-manager",
    "other_manager": "payments-manager",
    "admin": "admin",
}
# Calls that end every credential of their caller's person are made by a new person each (the
# callers' tokens serve the whole module).
ENDS_CALLERS_CREDENTIALS = frozenset({("POST", "/api/v1/me/sessions:end-all")})


@pytest.fixture(scope="module")
def caller_headers(store: EventStore, org: DemoOrg, other_org: DemoOrg) -> dict[str, Headers]:
    """Headers of every caller but the subject (who differs per test)."""
    headers = {name: bearer(store, org, org.people[who]) for name, who in CALLER_PEOPLE.items()}
    headers["anonymous"] = {}
    headers["other_tenant_admin"] = bearer(store, other_org, other_org.admin)
    return headers


def spec_routes(client: FlaskClient) -> set[Route]:
    spec = client.get("/api/v1/openapi.json").get_json()
    return {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in {"get", "put", "post", "patch", "delete"}
    }


def test_every_route_is_in_the_matrix(client: FlaskClient):
    routes = spec_routes(client)
    missing = routes - ALLOWED.keys()
    assert not missing, f"add these endpoints to ALLOWED and REQUESTS: {sorted(missing)}"
    stale = ALLOWED.keys() - routes - OUTSIDE_SPEC
    assert not stale, f"these endpoints left the spec: {sorted(stale)}"
    assert REQUESTS.keys() == ALLOWED.keys()


def test_every_api_route_is_in_the_spec(app: Flask, client: FlaskClient):
    """No endpoint under /api/v1 hides from the spec (and so from the matrix)."""
    documented = {path for _, path in spec_routes(client)}
    served = {
        rule.rule.replace("<uuid:", "{").replace("<string:", "{").replace(">", "}")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        and not rule.rule.startswith(("/api/v1/docs", "/api/v1/openapi.json"))
    }
    assert served <= documented, sorted(served - documented)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", sorted(ALLOWED), ids=" ".join)
def test_authorization_matrix(
    route: Route,
    caller: str,
    app: Flask,
    client: FlaskClient,
    store: EventStore,
    org: DemoOrg,
    other_org: DemoOrg,
    platform_1: Person,
    caller_headers: dict[str, Headers],
    new_person: Callable[..., Person],
):
    fresh = route in FRESH_SUBJECT or route in ENDS_CALLERS_CREDENTIALS
    subject = new_person("platform") if fresh else platform_1
    world = World(app, store, org, other_org, subject)
    call = REQUESTS[route](world)
    headers = subject.headers if caller == "employee" else caller_headers[caller]
    if route in ENDS_CALLERS_CREDENTIALS and caller != "anonymous":
        headers = new_person("platform").headers
    response = client.open(
        call.path, method=call.method, json=call.json, headers={**headers, **call.headers}
    )
    status = response.status_code
    body = response.get_data(as_text=True)[:300]
    if caller in ALLOWED[route]:
        assert 200 <= status < 300, f"{caller} should be allowed: {status} {body}"
    elif caller == "anonymous":
        assert status == 401, body
    else:
        expected = {REFUSED_AS[(route, caller)]} if (route, caller) in REFUSED_AS else {403, 404}
        assert status in expected, f"{caller} should be refused: {status} {body}"
    if status >= 400:
        assert response.mimetype == "application/problem+json", body


# -- cross-tenant: an admin of another organisation sees and changes nothing of ours ----------


@pytest.fixture
def stranger(caller_headers: dict[str, Headers]) -> Headers:
    return caller_headers["other_tenant_admin"]


def _ids(response: Any, key: str = "id") -> set[str]:
    assert response.status_code == 200, response.get_json()
    return {item[key] for item in response.get_json()}


def test_other_tenant_lists_none_of_our_teams_or_people(
    client: FlaskClient, org: DemoOrg, other_org: DemoOrg, stranger: Headers
):
    teams = _ids(client.get("/api/v1/teams", headers=stranger))
    assert teams == {str(t) for t in other_org.teams.values()}
    assert not teams & {str(t) for t in org.teams.values()}
    people = _ids(client.get("/api/v1/people", headers=stranger))
    assert not people & {str(p) for p in org.people.values()}
    me = client.get("/api/v1/me", headers=stranger).get_json()
    assert me["person_id"] == str(other_org.admin)


def test_other_tenant_cannot_assign_managers_across(
    client: FlaskClient,
    org: DemoOrg,
    other_org: DemoOrg,
    stranger: Headers,
    headers_of: Callable[[str], Headers],
):
    ours = {"person_id": str(org.people["payments-1"])}
    response = client.post(
        f"/api/v1/teams/{org.teams['platform']}/managers", headers=stranger, json=ours
    )
    assert response.status_code == 404
    # Their team, our person: still no.
    response = client.post(
        f"/api/v1/teams/{other_org.teams['platform']}/managers", headers=stranger, json=ours
    )
    assert response.status_code == 404
    me = client.get("/api/v1/me", headers=headers_of("payments-1")).get_json()
    assert me["roles"] == ["employee"]
    assert [t["role"] for t in me["teams"]] == ["member"]


def test_other_tenant_cannot_erase_our_people(
    client: FlaskClient, stranger: Headers, new_person: Callable[..., Person]
):
    person = new_person("platform")
    response = client.delete(f"/api/v1/people/{person.id}", headers=stranger)
    assert response.status_code == 404
    assert client.get("/api/v1/me", headers=person.headers).status_code == 200


def test_other_tenant_cannot_invite_into_or_below_our_teams(
    client: FlaskClient, org: DemoOrg, stranger: Headers
):
    team = str(org.teams["platform"])
    invited = client.post(
        "/api/v1/invitations",
        headers=stranger,
        json={"email": _unique("x") + "@t.test", "team_id": team},
    )
    assert invited.status_code == 404
    created = client.post(
        "/api/v1/teams", headers=stranger, json={"name": "sub", "parent_team_id": team}
    )
    assert created.status_code == 404


def test_other_tenant_cannot_revoke_our_tokens(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person], stranger: Headers
):
    person = new_person("platform")
    actor = Actor(tenant_id=person.tenant_id or uuid.uuid4(), person_id=person.id, source="test")
    token_id, token = OrganizationCommands(store).create_token(actor, "mine")
    response = client.delete(f"/api/v1/me/tokens/{token_id}", headers=stranger)
    assert response.status_code == 404
    works = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert works.status_code == 200


def test_other_tenant_cannot_end_our_experiments(
    client: FlaskClient, headers_of: Callable[[str], Headers], stranger: Headers
):
    started = client.post(
        "/api/v1/experiments", headers=headers_of("platform-2"), json={"tactic": "learning_bit"}
    )
    assert started.status_code == 201
    experiment = started.get_json()["experiment_id"]
    assert (
        client.post(f"/api/v1/experiments/{experiment}/end", headers=stranger, json={}).status_code
        == 404
    )
    ended = client.post(
        f"/api/v1/experiments/{experiment}/end", headers=headers_of("platform-2"), json={}
    )
    assert ended.status_code == 200


def test_other_tenant_cannot_import_into_our_journals(
    client: FlaskClient, store: EventStore, org: DemoOrg, stranger: Headers
):
    person = org.people["payments-2"]
    before = store.stream_version(f"journal-{person}")
    event = {
        "type": "OutcomeRecorded",
        "data": {"outcome_id": str(uuid.uuid4()), "person_id": str(person), "kind": "invitation"},
    }
    response = client.post("/api/v1/events:import", headers=stranger, json={"events": [event]})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"events.0.data.person_id"}
    assert store.stream_version(f"journal-{person}") == before


def test_other_tenant_cannot_answer_our_teams_pulse(
    client: FlaskClient, org: DemoOrg, stranger: Headers
):
    response = client.post(
        "/api/v1/pulse",
        headers=stranger,
        json={"answers": {"workload": 3}, "team_id": str(org.teams["payments"])},
    )
    assert response.status_code == 403


def test_an_erased_person_is_locked_out(
    client: FlaskClient, new_person: Callable[..., Person], caller_headers: dict[str, Headers]
):
    person = new_person("payments")
    assert client.delete(f"/api/v1/people/{person.id}", headers=person.headers).status_code == 204
    assert client.get("/api/v1/me", headers=person.headers).status_code == 401
    login = {"email": person.email, "password": person.password}
    assert client.post("/api/v1/auth/token", json=login).status_code == 401
    # DELETE is idempotent: erasing again is no error.
    again = client.delete(f"/api/v1/people/{person.id}", headers=caller_headers["admin"])
    assert again.status_code == 204
