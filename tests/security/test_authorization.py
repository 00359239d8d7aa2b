"""The authorization matrix: every route of the gateway's URL map, pages and API alike, called
by each of seven identities, with the outcome each must get written down in
``authorization_matrix.txt`` (beside this file).

The routes come from ``app.url_map``: a route added without a row in the matrix fails
``test_every_route_has_a_row``. Each cell is one real request through the app (real
PostgreSQL and Redis), logged in through the login page as a browser is; API routes are
called with the same session and its CSRF token (tests/api/test_authorization.py calls them
with bearer tokens).

The seven identities (the roles of the code: ``employee``,
``admin``, and managers, who are employees managing teams; teams nest):

* ``anon``  anonymous: no session. A *colleague* answering a micro-feedback request is
  anonymous too: the signed link is their only credential (``/f/<token>``);
* ``emp``   the employee, a member of team Platform: the owner of every id in the URLs
  (their action, experiment, token, feedback link);
* ``mgr``   the manager of Platform;
* ``pmgr``  the manager of Engineering, the team above Platform (sees its sub-teams);
* ``omgr``  the manager of Sales, an unrelated team (an employee too: someone else's ids);
* ``admin`` an admin of the organisation;
* ``xadm``  the admin of another organisation (tenant isolation): every id in the URLs
  belongs to the first organisation, so each of their answers is a refusal or their own
  organisation's data, and no answer to them carries any name, address or id of ours.

Outcomes: ``ok`` (2xx), ``done`` (a form did its work and redirects, 3xx elsewhere than the
login page), ``login`` (302 to the login page), or the refusal's status (``400``, ``401``,
``403``, ``404``). A refused request (4xx, or ``login``) writes no event.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from services.gateway.feedback import feedback_token
from shared import sessions
from shared.calendar.settings import CalendarSettings
from shared.chat.settings import SlackSettings
from shared.commands import Actor, JournalCommands, OrganizationCommands
from shared.commands.absences import declare_absence
from shared.domain.weeks import iso_week_of
from shared.eventlog import EventStore
from shared.eventlog.events import PULSE_ITEMS
from shared.msteams.settings import TeamsSettings
from shared.sessions import Lifetimes
from shared.settings import Settings
from tests.conftest import TEST_SECRET
from tests.reliability.report import Figures
from tests.security.pages import csrf_token, log_in

pytestmark = pytest.mark.integration

IDENTITIES = ("anon", "emp", "mgr", "pmgr", "omgr", "admin", "xadm")

MATRIX = (Path(__file__).parent / "authorization_matrix.txt").read_text()

PASSWORD = "matrix-password-1"
LEVER = "psychological_safety"
REDIRECTS = {301, 302, 303, 307, 308}


def parse_matrix(text: str) -> dict[tuple[str, str], dict[str, str]]:
    table = {}
    for line in text.strip().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        method, *words = line.split()
        rule, cells = " ".join(words[: -len(IDENTITIES)]), words[-len(IDENTITIES) :]
        assert rule.startswith("/") and len(cells) == len(IDENTITIES), line
        assert (method, rule) not in table, f"two rows for {method} {rule}"
        table[(method, rule)] = dict(zip(IDENTITIES, cells, strict=True))
    return table


def url_map_routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }


# -- the world: two organisations, and a logged-in browser per identity -------------------------


@dataclass
class Identity:
    name: str
    person_id: uuid.UUID | None
    email: str | None
    client: FlaskClient
    csrf: str


@dataclass
class World:
    app: Flask
    store: EventStore
    marker: str  # in every name and address of the first organisation
    tenant: uuid.UUID
    admin_id: uuid.UUID
    teams: dict[str, uuid.UUID]
    people: dict[str, uuid.UUID]
    emails: dict[str, str]
    other_tenant: uuid.UUID
    other_admin_id: uuid.UUID
    other_team: uuid.UUID
    identities: dict[str, Identity] = field(default_factory=dict)

    @property
    def commands(self) -> OrganizationCommands:
        return OrganizationCommands(self.store)

    @property
    def journal(self) -> JournalCommands:
        journal: JournalCommands = self.app.extensions["compound"].journal
        return journal

    def admin(self, tenant: uuid.UUID | None = None) -> Actor:
        if tenant == self.other_tenant:
            return Actor(self.other_tenant, self.other_admin_id, role="admin", source="test")
        return Actor(self.tenant, self.admin_id, role="admin", source="test")

    @property
    def emp(self) -> Actor:
        return Actor(self.tenant, self.people["emp"], source="test")

    def person(self, kind: str) -> tuple[uuid.UUID, str]:
        """A new person in the position of identity ``kind`` (for calls that consume their
        caller: erasure); returns (id, e-mail)."""
        tenant = self.other_tenant if kind == "xadm" else self.tenant
        marker = "other" if kind == "xadm" else self.marker  # theirs carry no marker of ours
        email = f"{kind}-{uuid.uuid4().hex[:10]}-{marker}@matrix.test"
        role = "admin" if kind in ("admin", "xadm") else "employee"
        team = self.teams["platform"] if kind == "emp" else None
        invited = self.commands.invite(self.admin(tenant), email, role, team)
        self.commands.accept_invitation(tenant, invited.person_id, f"New {marker}", PASSWORD)
        managed = {"mgr": "platform", "pmgr": "engineering", "omgr": "sales"}.get(kind)
        if managed:
            self.commands.assign_manager(self.admin(), self.teams[managed], invited.person_id)
        return invited.person_id, email

    def browser(self, name: str, person_id: uuid.UUID | None, email: str | None) -> Identity:
        client = self.app.test_client()
        if email is None:
            return Identity(name, None, None, client, csrf_token(_text(client.get("/login"))))
        log_in(client, email, PASSWORD)
        return Identity(name, person_id, email, client, csrf_token(_text(client.get("/account"))))

    def fresh(self, name: str) -> Identity:
        """A browser of a new person in the position of ``name`` (or a new anonymous one)."""
        if name == "anon":
            return self.browser(name, None, None)
        return self.browser(name, *self.person(name))

    def relogin(self, name: str) -> Identity:
        """A second browser of the same identity (for calls that end their session)."""
        known = self.identities[name]
        return self.browser(name, known.person_id, known.email)


def _text(response: Any) -> str:
    return str(response.get_data(as_text=True))


MATRIX_TEAMS = TeamsSettings(  # activities without the Bot Framework's token are refused
    app_id="matrix", openid_url="http://127.0.0.1:9/openid", token_url="http://127.0.0.1:9/t"
)


@pytest.fixture(scope="module")
def matrix_app(settings: Settings) -> Iterator[Flask]:
    """The gateway with a calendar provider configured (connect only redirects to it)."""
    from services.gateway import create_app

    calendar = CalendarSettings(
        local_url="http://127.0.0.1:9", local_client_id="matrix", local_client_secret="s"
    )
    slack = SlackSettings(  # install only redirects to it; requests from Slack are unsigned
        signing_secret="matrix",
        client_id="matrix",
        client_secret="s",
        api_url="http://127.0.0.1:9/api/",
        authorize_url="http://127.0.0.1:9/oauth/v2/authorize",
    )
    app = create_app(
        {
            "COMPOUND_SETTINGS": replace(
                settings, calendar=calendar, slack=slack, msteams=MATRIX_TEAMS
            ),
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": "compound.test",
            "RATELIMIT_KEY_PREFIX": f"matrix-{uuid.uuid4().hex}",
        }
    )
    yield app
    app.extensions["compound"].close()


@pytest.fixture(scope="module")
def world(matrix_app: Flask, store: EventStore) -> World:
    marker = "mx" + uuid.uuid4().hex[:12]
    commands = OrganizationCommands(store)
    emails = {"admin": f"admin-{marker}@matrix.test"}
    tenant, admin = commands.create_organization(
        f"Org {marker}", emails["admin"], PASSWORD, f"Admin {marker}"
    )
    actor = Actor(tenant, admin, role="admin", source="test")
    engineering = commands.create_team(actor, f"Engineering {marker}")
    teams = {
        "engineering": engineering,
        "platform": commands.create_team(actor, f"Platform {marker}", engineering),
        "sales": commands.create_team(actor, f"Sales {marker}"),
    }
    other_tenant, other_admin = commands.create_organization(
        "Other org", f"admin-{uuid.uuid4().hex[:10]}@other.test", PASSWORD, "Other admin"
    )
    other_team = commands.create_team(
        Actor(other_tenant, other_admin, role="admin", source="test"), "Other team"
    )
    w = World(
        matrix_app,
        store,
        marker,
        tenant,
        admin,
        teams,
        {"admin": admin},
        emails,
        other_tenant,
        other_admin,
        other_team,
    )
    for kind in ("emp", "mgr", "pmgr", "omgr"):
        w.people[kind], w.emails[kind] = w.person(kind)
    # A teammate, so the employee's team has more than one member.
    w.person("emp")
    w.identities = {
        "anon": w.browser("anon", None, None),
        "admin": w.browser("admin", admin, emails["admin"]),
        "xadm": w.browser("xadm", *w.person("xadm")),
        **{k: w.browser(k, w.people[k], w.emails[k]) for k in ("emp", "mgr", "pmgr", "omgr")},
    }
    return w


# -- one request per route ----------------------------------------------------------------------


@dataclass
class Call:
    method: str
    path: str
    form: dict[str, str] | None = None
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    caller: Identity | None = None  # instead of the identity's own browser


Builder = Callable[[World, Identity], Call]


def get(path: str | Callable[[World], str], **headers: str) -> Builder:
    return lambda w, who: Call("GET", path(w) if callable(path) else path, headers=headers)


def form(method: str, path: str | Callable[[World], str], **values: str) -> Builder:
    return lambda w, who: Call(method, path(w) if callable(path) else path, form=dict(values))


def api(method: str, path: str | Callable[[World], str], body: Any = None) -> Builder:
    def build(w: World, who: Identity) -> Call:
        payload = body(w) if callable(body) else body
        return Call(method, path(w) if callable(path) else path, json=payload)

    return build


def week() -> str:
    return iso_week_of(datetime.now(UTC))


def team(name: str) -> Callable[[World], str]:
    return lambda w: str(w.teams[name])


def emp_action(w: World) -> uuid.UUID:
    return w.journal.log_action(w.emp, "learning_bit", 5, "private").id


def emp_experiment(w: World) -> uuid.UUID:
    return w.journal.start_experiment(w.emp, "learning_bit").id


def emp_token(w: World) -> uuid.UUID:
    token_id, _ = w.commands.create_token(w.emp, "to revoke")
    return token_id


def emp_other_session(w: World) -> uuid.UUID:
    """A session of the employee on another device (a row of its own)."""
    session_id, _ = sessions.start(
        w.store.engine, w.tenant, w.people["emp"], "Phone", "192.0.2.9", datetime.now(UTC),
        Lifetimes(),
    )  # fmt: skip
    return session_id


def end_all(path: str, **kw: Any) -> Builder:
    """Log out everywhere ends every session of the caller: a new person in their place."""
    return lambda w, who: Call("POST", path, caller=w.fresh(who.name), **kw)


TODAY = datetime.now(UTC).date().isoformat()


def emp_absence(w: World) -> uuid.UUID:
    today = datetime.now(UTC).date()
    return declare_absence(w.store, w.emp, today, today).id


def emp_feedback_link(w: World) -> str:
    asked = w.journal.request_feedback(w.emp, "Was my demo clear?")
    with w.app.app_context():
        return "/f/" + feedback_token(w.tenant, w.people["emp"], asked.id)


def emp_outcome_for_mgr(w: World) -> uuid.UUID:
    return w.journal.record_outcome(w.emp, "recognition", confirmer=w.people["mgr"]).id


def emp_deposit_for_mgr(w: World) -> uuid.UUID:
    journal = w.journal
    return journal.log_action(
        w.emp, "relationship_deposit", 5, "team", counterpart=w.people["mgr"]
    ).id


def emp_request_for_mgr(w: World) -> uuid.UUID:
    return w.journal.request_feedback(w.emp, "Was it clear?", colleague=w.people["mgr"]).id


def invitation_link(w: World) -> str:
    from services.gateway.auth import invitation_serializer

    invited = w.commands.invite(w.admin(), f"invitee-{uuid.uuid4().hex[:10]}@matrix.test")
    with w.app.app_context():
        token = invitation_serializer().dumps({"t": str(w.tenant), "p": str(invited.person_id)})
    return f"/invite/{token}"


def reset_link(w: World) -> str:
    """A mailed reset link of a new person (using it changes their password)."""
    from services.gateway.resources import resources
    from shared.password_reset import ResetLinks

    _, email = w.person("emp")
    with w.app.app_context():
        mail = ResetLinks(resources().settings).mail_for(resources().engine, email)
    assert mail is not None
    return "/password/reset/" + mail.body.split("/password/reset/", 1)[1].split()[0]


def fresh_subject(w: World) -> uuid.UUID:
    return w.person("emp")[0]


def erase_self(w: World, who: Identity) -> Call:
    return Call("POST", "/data/erase", form={"confirm": "erase my data"}, caller=w.fresh(who.name))


def log_out(w: World, who: Identity) -> Call:
    caller = w.relogin(who.name) if who.email else w.fresh("anon")
    return Call("POST", "/logout", form={}, caller=caller)


def log_in_page(w: World, who: Identity) -> Call:
    # Anonymous: the employee's credentials. Signed in: their own (already logged in).
    email = who.email or w.emails["emp"]
    caller = w.relogin(who.name) if who.email else w.fresh("anon")
    return Call("POST", "/login", form={"email": email, "password": PASSWORD}, caller=caller)


def change_password(w: World, who: Identity) -> Call:
    values = {"current_password": PASSWORD, "new_password": PASSWORD, "confirm_password": PASSWORD}
    return Call("POST", "/account/password", form=values)


def pulse_form(w: World, who: Identity) -> Call:
    # A person answers once a week: a new one in the caller's position each time.
    values = {item: "4" for item in PULSE_ITEMS} | {"team_id": str(w.teams["platform"])}
    return Call("POST", "/pulse", form=values, caller=w.fresh(who.name))


def pulse_api(w: World, who: Identity) -> Call:
    body = {"answers": {"workload": 4}, "team_id": str(w.teams["platform"])}
    return Call("POST", "/api/v1/pulse", json=body, caller=w.fresh(who.name))


def import_events(w: World) -> dict[str, Any]:
    event = {
        "type": "MicroActionLogged",
        "data": {
            "action_id": str(uuid.uuid4()),
            "person_id": str(w.people["emp"]),
            "tactic": "learning_bit",
            "minutes": 5,
            "audience": "private",
            "note": None,
        },
    }
    return {"events": [event]}


def new_manager(w: World) -> dict[str, str]:
    invited = w.commands.invite(w.admin(), f"mgr-{uuid.uuid4().hex[:10]}@matrix.test")
    return {"person_id": str(invited.person_id)}


def admin_subject(w: World) -> str:
    """A new person of the first organisation (an admin's change consumes them)."""
    return str(w.person("emp")[0])


def admin_invited(w: World) -> str:
    """A new person of the first organisation, invited, not joined."""
    return str(w.commands.invite(w.admin(), f"inv-{uuid.uuid4().hex[:10]}@matrix.test").person_id)


def admin_erase(w: World, who: Identity) -> Call:
    subject, email = w.person("emp")
    return Call("POST", f"/admin/people/{subject}/erase", form={"confirm": email})


def admin_manager(w: World, who: Identity) -> Call:
    _, email = w.person("emp")
    path = f"/admin/teams/{w.teams['sales']}/managers"
    return Call("POST", path, form={"email": email})


def admin_remove_manager(w: World, who: Identity) -> Call:
    manager, _ = w.person("omgr")  # a new manager of Sales
    return Call("POST", f"/admin/teams/{w.teams['sales']}/managers/{manager}/remove", form={})


def new_address() -> str:
    return f"new-{uuid.uuid4().hex[:10]}@matrix.test"


ACTION = {"tactic": "regular_signaling", "minutes": 10, "audience": "team"}
ACTION_FORM = {"tactic": "learning_bit", "minutes": "5", "audience": "private"}
HOURS = {"start": "08:00", "end": "16:00", "time_zone": "Europe/Berlin"}
JSON = {"Accept": "application/json"}
SLACK_LINK = URLSafeTimedSerializer(TEST_SECRET, salt="slack-link").dumps(
    {"team": "T0MATRIX", "user": "U0MATRIX"}  # a workspace no organisation installed
)
TEAMS_LINK = URLSafeTimedSerializer(TEST_SECRET, salt="msteams-link").dumps(
    {"tenant": "matrix", "object": "matrix", "email": "no-one@matrix.test", "name": "No one"}
)

REQUESTS: dict[tuple[str, str], Builder] = {
    # -- public --
    ("GET", "/healthz"): get("/healthz"),
    ("GET", "/readyz"): get("/readyz"),
    ("GET", "/favicon.ico"): get("/favicon.ico"),
    ("GET", "/metrics"): get("/metrics"),
    ("GET", "/static/<path:filename>"): get("/static/compound.css"),
    ("GET", "/api/v1/openapi.json"): get("/api/v1/openapi.json"),
    ("GET", "/api/v1/docs"): get("/api/v1/docs"),
    ("GET", "/api/v1/docs/assets/<path:filename>"): get("/api/v1/docs/assets/swagger-ui.css"),
    ("GET", "/login"): get("/login"),
    ("POST", "/login"): log_in_page,
    ("POST", "/logout"): log_out,
    ("GET", "/login/code"): get("/login/code"),
    ("POST", "/login/code"): form("POST", "/login/code", code="000000"),
    ("GET", "/login/enrol"): get("/login/enrol"),
    ("POST", "/login/enrol"): form("POST", "/login/enrol", code="000000"),
    ("GET", "/invite/<token>"): get(invitation_link),
    ("POST", "/invite/<token>"): lambda w, who: Call(  # joining logs the invitee in instead
        "POST",
        invitation_link(w),
        form={"display_name": "Invitee", "password": PASSWORD},
        caller=w.relogin(who.name) if who.email else w.fresh("anon"),
    ),
    ("GET", "/password/forgot"): get("/password/forgot"),
    ("POST", "/password/forgot"): lambda w, who: Call(
        "POST", "/password/forgot", form={"email": f"x-{uuid.uuid4().hex}@matrix.test"}
    ),
    ("GET", "/password/reset/<token>"): get(reset_link),
    ("POST", "/password/reset/<token>"): lambda w, who: Call(
        "POST", reset_link(w), form={"password": PASSWORD}
    ),
    ("GET", "/mailbox"): get("/mailbox"),
    ("GET", "/mailbox/<key>"): get("/mailbox/any"),
    ("GET", "/f/<token>"): get(emp_feedback_link),
    ("POST", "/f/<token>"): lambda w, who: Call(
        "POST", emp_feedback_link(w), form={"useful": "yes"}
    ),
    ("GET", "/erased"): get("/erased"),
    # -- confirmations --
    ("GET", "/confirm/outcomes/<uuid:item_id>"): get(
        lambda w: f"/confirm/outcomes/{emp_outcome_for_mgr(w)}"
    ),
    ("POST", "/confirm/outcomes/<uuid:item_id>"): lambda w, who: Call(
        "POST", f"/confirm/outcomes/{emp_outcome_for_mgr(w)}", form={"answer": "confirm"}
    ),
    ("GET", "/confirm/actions/<uuid:item_id>"): get(
        lambda w: f"/confirm/actions/{emp_deposit_for_mgr(w)}"
    ),
    ("POST", "/confirm/actions/<uuid:item_id>"): lambda w, who: Call(
        "POST", f"/confirm/actions/{emp_deposit_for_mgr(w)}", form={"answer": "decline"}
    ),
    # -- the portal --
    ("GET", "/"): get("/"),
    ("POST", "/actions"): form("POST", "/actions", **ACTION_FORM),
    ("POST", "/actions/<uuid:action_id>/undo"): lambda w, who: Call(
        "POST", f"/actions/{emp_action(w)}/undo", form={}
    ),
    ("GET", "/outcomes"): get("/outcomes"),
    ("POST", "/outcomes"): form("POST", "/outcomes", kind="recognition"),
    ("GET", "/plan"): get("/plan"),
    ("POST", "/plan"): form("POST", "/plan", tactic_0="learning_bit"),
    ("GET", "/experiments"): get("/experiments"),
    ("POST", "/experiments"): form(
        "POST", "/experiments", tactic="learning_bit", weeks="4", alongside="1"
    ),
    ("POST", "/experiments/<uuid:experiment_id>/end"): lambda w, who: Call(
        "POST", f"/experiments/{emp_experiment(w)}/end", form={"reflection": "done"}
    ),
    ("GET", "/feedback"): get("/feedback"),
    ("POST", "/feedback"): form("POST", "/feedback", question="Clear?", expires_in_days="7"),
    ("GET", "/capital"): get("/capital"),
    ("GET", "/history"): get("/history"),
    ("POST", "/history/<uuid:action_id>/correct"): lambda w, who: Call(
        "POST", f"/history/{emp_action(w)}/correct", form=ACTION_FORM
    ),
    ("POST", "/history/<uuid:action_id>/remove"): lambda w, who: Call(
        "POST", f"/history/{emp_action(w)}/remove", form={}
    ),
    ("GET", "/pulse"): get("/pulse"),
    ("POST", "/pulse"): pulse_form,
    ("GET", "/account"): get("/account"),
    ("POST", "/account/password"): change_password,
    ("GET", "/account/second-factor"): get("/account/second-factor"),
    ("GET", "/account/second-factor/recovery-codes"): get("/account/second-factor/recovery-codes"),
    ("POST", "/account/language"): form("POST", "/account/language", locale="en"),
    ("POST", "/account/second-factor"): form("POST", "/account/second-factor", code="000000"),
    ("POST", "/account/second-factor/remove"): form(
        "POST", "/account/second-factor/remove", password="not-the-password"
    ),
    ("POST", "/account/second-factor/organisation"): form(
        "POST", "/account/second-factor/organisation"
    ),
    ("POST", "/account/working-hours"): form(
        "POST", "/account/working-hours", **HOURS, working_days="mon"
    ),
    ("POST", "/account/absences"): form(
        "POST", "/account/absences", starts_on=TODAY, ends_on=TODAY
    ),
    ("POST", "/account/absences/<uuid:absence_id>/withdraw"): lambda w, who: Call(
        "POST", f"/account/absences/{emp_absence(w)}/withdraw", form={}
    ),
    ("POST", "/account/tokens"): form(
        "POST", "/account/tokens", name="matrix", scopes="journal:read"
    ),
    ("POST", "/account/sessions/<uuid:session_id>/end"): lambda w, who: Call(
        "POST", f"/account/sessions/{emp_other_session(w)}/end", form={}
    ),
    ("POST", "/account/sessions/end-all"): end_all("/account/sessions/end-all", form={}),
    ("POST", "/account/tokens/<uuid:token_id>/revoke"): lambda w, who: Call(
        "POST", f"/account/tokens/{emp_token(w)}/revoke", form={}
    ),
    ("GET", "/data"): get("/data"),
    ("GET", "/data/export.<any(json, csv):fmt>"): get("/data/export.json"),
    ("POST", "/data/erase"): erase_self,
    # -- calendar --
    ("GET", "/calendar"): get("/calendar"),
    ("POST", "/calendar/connect/<name>"): form("POST", "/calendar/connect/local"),
    ("GET", "/calendar/callback/<name>"): get("/calendar/callback/local?code=c&state=s"),
    ("GET", "/auth/oidc/callback"): get("/auth/oidc/callback?code=c&state=s"),
    ("POST", "/calendar/disconnect/<name>"): form("POST", "/calendar/disconnect/local"),
    ("POST", "/calendar/nudges"): form("POST", "/calendar/nudges", enabled="on"),
    # -- slack --
    ("GET", "/slack"): get("/slack"),
    ("GET", "/slack/install"): get("/slack/install"),
    ("GET", "/slack/oauth/callback"): get("/slack/oauth/callback?code=c&state=s"),
    ("GET", "/slack/link/<token>"): get(f"/slack/link/{SLACK_LINK}"),
    ("POST", "/slack/link/<token>"): form("POST", f"/slack/link/{SLACK_LINK}"),
    ("POST", "/slack/unlink"): form("POST", "/slack/unlink", team_id="T0MATRIX"),
    ("POST", "/slack/digest-time"): form("POST", "/slack/digest-time", day="someday", hour="9"),
    ("POST", "/slack/commands"): form("POST", "/slack/commands", team_id="T0MATRIX"),
    ("POST", "/slack/interactivity"): form("POST", "/slack/interactivity", payload="{}"),
    ("POST", "/slack/events"): api("POST", "/slack/events", {"type": "url_verification"}),
    # -- msteams --
    ("GET", "/msteams"): get("/msteams"),
    ("GET", "/msteams/link/<token>"): get(f"/msteams/link/{TEAMS_LINK}"),
    ("POST", "/msteams/link/<token>"): form("POST", f"/msteams/link/{TEAMS_LINK}"),
    ("POST", "/msteams/unlink"): form("POST", "/msteams/unlink", aad_object_id="matrix"),
    ("POST", "/msteams/messages"): api("POST", "/msteams/messages", {"type": "message"}),
    # -- the admin console --
    ("GET", "/admin/"): get("/admin/"),
    ("GET", "/admin/people"): get("/admin/people"),
    ("GET", "/admin/people/<uuid:person_id>"): get(lambda w: f"/admin/people/{admin_subject(w)}"),
    ("POST", "/admin/people/<uuid:person_id>/role"): form(
        "POST", lambda w: f"/admin/people/{admin_subject(w)}/role", role="manager"
    ),
    ("POST", "/admin/people/<uuid:person_id>/team"): lambda w, who: Call(
        "POST",
        f"/admin/people/{admin_subject(w)}/team",
        form={"team_id": str(w.teams["sales"])},
    ),
    ("POST", "/admin/people/<uuid:person_id>/leave"): form(
        "POST", lambda w: f"/admin/people/{admin_subject(w)}/leave"
    ),
    ("POST", "/admin/people/<uuid:person_id>/erase"): admin_erase,
    ("POST", "/admin/people/<uuid:person_id>/resend"): form(
        "POST", lambda w: f"/admin/people/{admin_invited(w)}/resend"
    ),
    ("GET", "/admin/invite"): get("/admin/invite"),
    ("POST", "/admin/invite"): lambda w, who: Call(
        "POST", "/admin/invite", form={"email": new_address()}
    ),
    ("POST", "/admin/invite/preview"): lambda w, who: Call(
        "POST", "/admin/invite/preview", form={"list": new_address()}
    ),
    ("POST", "/admin/invite/confirm"): lambda w, who: Call(
        "POST",
        "/admin/invite/confirm",
        form={"list": new_address(), "batch_id": str(uuid.uuid4())},
    ),
    ("GET", "/admin/invite/sent/<result>"): get("/admin/invite/sent/none-kept"),
    ("GET", "/admin/teams"): get("/admin/teams"),
    ("POST", "/admin/teams"): form("POST", "/admin/teams", name="Matrix team"),
    ("GET", "/admin/teams/<uuid:team_id>"): get(lambda w: f"/admin/teams/{w.teams['sales']}"),
    ("POST", "/admin/teams/<uuid:team_id>/rename"): lambda w, who: Call(
        "POST", f"/admin/teams/{w.teams['sales']}/rename", form={"name": f"Sales {w.marker}"}
    ),
    ("POST", "/admin/teams/<uuid:team_id>/move"): lambda w, who: Call(
        "POST", f"/admin/teams/{w.teams['sales']}/move", form={"parent_team_id": ""}
    ),
    ("POST", "/admin/teams/<uuid:team_id>/managers"): admin_manager,
    ("POST", "/admin/teams/<uuid:team_id>/managers/<uuid:person_id>/remove"): admin_remove_manager,
    ("GET", "/admin/settings"): get("/admin/settings"),
    ("POST", "/admin/settings"): form("POST", "/admin/settings", k="5"),
    ("GET", "/admin/audit"): get("/admin/audit"),
    ("GET", "/admin/audit.csv"): get("/admin/audit.csv"),
    ("GET", "/admin/integrations"): get("/admin/integrations"),
    ("GET", "/admin/operations"): get("/admin/operations"),
    ("POST", "/admin/operations/<name>/rebuild"): form("POST", "/admin/operations/capital/rebuild"),
    # -- dashboards --
    ("GET", "/dashboards/"): get("/dashboards/"),
    ("GET", "/dashboards/org"): get("/dashboards/org"),
    ("GET", "/dashboards/org/export.csv"): get("/dashboards/org/export.csv"),
    ("GET", "/dashboards/org/levers/<lever>"): get(f"/dashboards/org/levers/{LEVER}"),
    ("GET", "/dashboards/org/levers/<lever>/export.csv"): get(
        f"/dashboards/org/levers/{LEVER}/export.csv"
    ),
    ("GET", "/dashboards/teams/<uuid:team_id>"): get(
        lambda w: f"/dashboards/teams/{w.teams['platform']}"
    ),
    ("GET", "/dashboards/teams/<uuid:team_id>/export.csv"): get(
        lambda w: f"/dashboards/teams/{w.teams['platform']}/export.csv"
    ),
    ("GET", "/dashboards/teams/<uuid:team_id>/levers/<lever>"): get(
        lambda w: f"/dashboards/teams/{w.teams['platform']}/levers/{LEVER}"
    ),
    ("GET", "/dashboards/teams/<uuid:team_id>/levers/<lever>/export.csv"): get(
        lambda w: f"/dashboards/teams/{w.teams['platform']}/levers/{LEVER}/export.csv"
    ),
    # -- API v1 --
    ("POST", "/api/v1/auth/token"): lambda w, who: Call(
        "POST", "/api/v1/auth/token", json={"email": w.emails["emp"], "password": PASSWORD}
    ),
    ("GET", "/api/v1/me"): get("/api/v1/me"),
    ("GET", "/api/v1/me/capital"): get("/api/v1/me/capital"),
    ("GET", "/api/v1/me/experiments"): get("/api/v1/me/experiments"),
    ("GET", "/api/v1/me/feedback"): get("/api/v1/me/feedback"),
    ("GET", "/api/v1/me/export"): get("/api/v1/me/export"),
    ("GET", "/api/v1/me/plan/<string:isoweek>"): get(lambda w: f"/api/v1/me/plan/{week()}"),
    ("POST", "/api/v1/me/tokens"): api("POST", "/api/v1/me/tokens", {"name": "matrix"}),
    ("GET", "/api/v1/me/tokens"): get("/api/v1/me/tokens"),
    ("GET", "/api/v1/me/sessions"): get("/api/v1/me/sessions"),
    ("DELETE", "/api/v1/me/sessions/<uuid:session_id>"): api(
        "DELETE", lambda w: f"/api/v1/me/sessions/{emp_other_session(w)}"
    ),
    ("POST", "/api/v1/me/sessions:end-all"): end_all("/api/v1/me/sessions:end-all"),
    ("GET", "/api/v1/me/working-hours"): get("/api/v1/me/working-hours"),
    ("PUT", "/api/v1/me/working-hours"): api(
        "PUT", "/api/v1/me/working-hours", {**HOURS, "working_days": ["mon", "tue"]}
    ),
    ("DELETE", "/api/v1/me/tokens/<uuid:token_id>"): api(
        "DELETE", lambda w: f"/api/v1/me/tokens/{emp_token(w)}"
    ),
    ("POST", "/api/v1/me/absences"): api(
        "POST", "/api/v1/me/absences", {"starts_on": TODAY, "ends_on": TODAY}
    ),
    ("GET", "/api/v1/me/absences"): get("/api/v1/me/absences"),
    ("DELETE", "/api/v1/me/absences/<uuid:absence_id>"): api(
        "DELETE", lambda w: f"/api/v1/me/absences/{emp_absence(w)}"
    ),
    ("POST", "/api/v1/actions"): api("POST", "/api/v1/actions", ACTION),
    ("POST", "/api/v1/actions/<uuid:action_id>/undo"): api(
        "POST", lambda w: f"/api/v1/actions/{emp_action(w)}/undo"
    ),
    ("POST", "/api/v1/outcomes"): api("POST", "/api/v1/outcomes", {"kind": "recognition"}),
    ("POST", "/api/v1/plans/<string:isoweek>"): api(
        "POST", lambda w: f"/api/v1/plans/{week()}", {"actions": [{"tactic": "learning_bit"}]}
    ),
    ("POST", "/api/v1/experiments"): api("POST", "/api/v1/experiments", {"tactic": "learning_bit"}),
    ("POST", "/api/v1/experiments/<uuid:experiment_id>/end"): api(
        "POST", lambda w: f"/api/v1/experiments/{emp_experiment(w)}/end", {"reflection": "x"}
    ),
    ("POST", "/api/v1/feedback-requests"): api(
        "POST", "/api/v1/feedback-requests", {"question": "Was it clear?"}
    ),
    ("POST", "/api/v1/outcomes/<uuid:outcome_id>/confirmation"): api(
        "POST",
        lambda w: f"/api/v1/outcomes/{emp_outcome_for_mgr(w)}/confirmation",
        {"confirmed": True},
    ),
    ("POST", "/api/v1/actions/<uuid:action_id>/confirmation"): api(
        "POST",
        lambda w: f"/api/v1/actions/{emp_deposit_for_mgr(w)}/confirmation",
        {"confirmed": False},
    ),
    ("POST", "/api/v1/feedback-requests/<uuid:request_id>/answer"): api(
        "POST",
        lambda w: f"/api/v1/feedback-requests/{emp_request_for_mgr(w)}/answer",
        {"useful": True},
    ),
    ("POST", "/api/v1/pulse"): pulse_api,
    ("GET", "/api/v1/teams"): get("/api/v1/teams"),
    ("POST", "/api/v1/teams"): api(
        "POST",
        "/api/v1/teams",
        lambda w: {
            "name": f"sub-{uuid.uuid4().hex[:8]}",
            "parent_team_id": str(w.teams["platform"]),
        },
    ),
    ("POST", "/api/v1/teams/<uuid:team_id>/managers"): api(
        "POST", lambda w: f"/api/v1/teams/{w.teams['platform']}/managers", new_manager
    ),
    ("GET", "/api/v1/teams/<uuid:team_id>/levers"): get(
        lambda w: f"/api/v1/teams/{w.teams['platform']}/levers"
    ),
    ("POST", "/api/v1/invitations"): api(
        "POST",
        "/api/v1/invitations",
        lambda w: {
            "email": f"inv-{uuid.uuid4().hex[:10]}@matrix.test",
            "team_id": str(w.teams["platform"]),
        },
    ),
    ("GET", "/api/v1/people"): get("/api/v1/people"),
    ("DELETE", "/api/v1/people/<uuid:person_id>"): api(
        "DELETE", lambda w: f"/api/v1/people/{fresh_subject(w)}"
    ),
    ("POST", "/api/v1/people/<uuid:person_id>/role"): api(
        "POST", lambda w: f"/api/v1/people/{fresh_subject(w)}/role", {"role": "manager"}
    ),
    ("POST", "/api/v1/people/<uuid:person_id>/team"): api(
        "POST",
        lambda w: f"/api/v1/people/{fresh_subject(w)}/team",
        lambda w: {"team_id": str(w.teams["sales"])},
    ),
    ("POST", "/api/v1/people/<uuid:person_id>/leave"): api(
        "POST", lambda w: f"/api/v1/people/{fresh_subject(w)}/leave"
    ),
    ("DELETE", "/api/v1/people/<uuid:person_id>/second-factor"): api(
        "DELETE", lambda w: f"/api/v1/people/{fresh_subject(w)}/second-factor"
    ),
    ("POST", "/api/v1/events:import"): api("POST", "/api/v1/events:import", import_events),
    ("GET", "/api/v1/org/levers"): get("/api/v1/org/levers"),
    ("GET", "/api/v1/org/settings"): get("/api/v1/org/settings"),
    ("GET", "/api/v1/org/sso"): get("/api/v1/org/sso"),
    ("PUT", "/api/v1/org/sso"): api(
        "PUT", "/api/v1/org/sso", {"issuer": "https://sso.invalid", "client_id": "", "domains": []}
    ),
    ("DELETE", "/api/v1/org/sso"): api("DELETE", "/api/v1/org/sso"),
    ("PUT", "/api/v1/org/settings"): api(
        "PUT", "/api/v1/org/settings", {"k": 5, "pulse_cadence_weeks": 1}
    ),
    ("PATCH", "/api/v1/org/settings"): api("PATCH", "/api/v1/org/settings", {"k": 5}),
    ("GET", "/api/v1/projections"): get("/api/v1/projections"),
    ("POST", "/api/v1/projections/<string:name>/rebuild"): api(
        "POST", "/api/v1/projections/capital/rebuild"
    ),
}


def scim_token_id(w: World) -> uuid.UUID:
    from shared.scim import tokens

    token_id, _ = tokens.issue(w.store, w.admin())
    return token_id


def _scim_path(rule: str) -> Callable[[World], str]:
    def concrete(w: World) -> str:
        return (
            rule.replace("<user_id>", str(w.people["emp"]))
            .replace("<group_id>", str(w.teams["platform"]))
            .replace("<name>", "User")
            .replace("<schema_id>", "urn:ietf:params:scim:schemas:core:2.0:User")
            .replace("<path:path>", "Elsewhere")
        )

    return concrete


SCIM_REQUESTS: dict[tuple[str, str], Builder] = {
    (method, rule): api(method, _scim_path(rule), {"schemas": []} if method != "GET" else None)
    for rule, methods in {
        "/scim/v2/Users": ("GET", "POST"),
        "/scim/v2/Users/<user_id>": ("GET", "PUT", "PATCH", "DELETE"),
        "/scim/v2/Groups": ("GET", "POST"),
        "/scim/v2/Groups/<group_id>": ("GET", "PUT", "PATCH", "DELETE"),
        "/scim/v2/ServiceProviderConfig": ("GET",),
        "/scim/v2/ResourceTypes": ("GET",),
        "/scim/v2/ResourceTypes/<name>": ("GET",),
        "/scim/v2/Schemas": ("GET",),
        "/scim/v2/Schemas/<schema_id>": ("GET",),
        "/scim/v2/.search": ("POST",),
        "/scim/v2/<path:path>": ("GET", "POST", "PUT", "PATCH", "DELETE"),
    }.items()
    for method in methods
}
REQUESTS.update(SCIM_REQUESTS)
REQUESTS.update(
    {
        ("GET", "/api/v1/org/scim-tokens"): get("/api/v1/org/scim-tokens"),
        ("POST", "/api/v1/org/scim-tokens"): api("POST", "/api/v1/org/scim-tokens"),
        ("DELETE", "/api/v1/org/scim-tokens/<uuid:token_id>"): api(
            "DELETE", lambda w: f"/api/v1/org/scim-tokens/{scim_token_id(w)}"
        ),
    }
)


def send(call: Call, who: Identity) -> Any:
    caller = call.caller or who
    headers = dict(call.headers)
    if call.method not in ("GET", "HEAD"):
        headers["X-CSRFToken"] = caller.csrf
    data = None
    if call.form is not None:
        data = {**call.form, "csrf_token": caller.csrf}
    return caller.client.open(
        call.path, method=call.method, data=data, json=call.json, headers=headers
    )


def outcome(response: Any) -> str:
    status = response.status_code
    if status in REDIRECTS:
        # The login gate sends the caller to log in and come back (``?next=``); a redirect to
        # the login page without it is a success (logged out, invitation accepted).
        location = urlsplit(response.headers["Location"])
        return "login" if location.path == "/login" and "next=" in location.query else "done"
    if 200 <= status < 300:
        return "ok"
    return str(status)


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def leaks(w: World, call: Call, response: Any, text: str) -> list[str]:
    """What of the first organisation an answer to the other tenant's admin carries: its
    marker (every name and address), or an id of it the request did not itself name."""
    body = text + " ".join(f"{k}: {v}" for k, v in response.headers.items())
    # A feedback link names its asker to whoever holds it (issue 25: the colleague's page says
    # who asks): the signed link is that credential, given out by the asker. Ids stay out.
    by_design = call.path.startswith("/f/")
    found = [w.marker] if w.marker in body and not by_design else []
    ours = {
        str(w.tenant),
        *(str(t) for t in w.teams.values()),
        *(str(p) for p in w.people.values()),
    }
    named = set(_UUID.findall(call.path + repr(call.json) + repr(call.form)))
    found += sorted((set(_UUID.findall(body)) & ours) - named)
    return found


def test_every_route_has_a_row(matrix_app: Flask) -> None:
    table = parse_matrix(MATRIX)
    routes = url_map_routes(matrix_app)
    assert len(routes) >= 80, routes  # the URL map was read
    missing = sorted(routes - table.keys())
    assert not missing, f"add a row to MATRIX and a request to REQUESTS for: {missing}"
    stale = sorted(table.keys() - routes)
    assert not stale, f"these routes left the URL map: {stale}"
    assert REQUESTS.keys() == table.keys()


def test_authorization_matrix(world: World, figures: Figures) -> None:
    table = parse_matrix(MATRIX)
    routes = sorted(url_map_routes(world.app), key=lambda r: (r[1], r[0]))
    observed: dict[tuple[str, str], dict[str, str]] = {}
    violations, leaked, refused, written_when_refused = [], [], 0, []
    for route in routes:
        observed[route] = {}
        for name in IDENTITIES:
            who = world.identities[name]
            call = REQUESTS[route](world, who)
            head = world.store.head()
            with send(call, who) as response:
                got = outcome(response)
                text = _text(response)
            observed[route][name] = got
            expected = table.get(route, {}).get(name)
            if got != expected:
                detail = text[:160].replace("\n", " ")
                violations.append(
                    f"{route[0]} {route[1]} as {name}: {got}, not {expected} ({detail})"
                )
            if got == "login" or got[0] == "4":
                refused += 1
                if world.store.head() != head:
                    written_when_refused.append(f"{route} as {name}")
            if name == "xadm":
                found = leaks(world, call, response, text)
                if found:
                    leaked.append(f"{route[0]} {route[1]}: {found}")
    rows = "\n".join(
        f"{m:<6} {r:<62} " + " ".join(f"{observed[(m, r)][n]:<5}" for n in IDENTITIES)
        for m, r in routes
    )
    assert not violations, "\n".join(violations) + "\n\nobserved:\n" + rows
    assert not leaked, f"answers to another tenant's admin carry our data: {leaked}"
    assert not written_when_refused, f"refused requests wrote events: {written_when_refused}"
    figures.record(
        "authorization-matrix",
        "Security",
        "the authorization matrix: every route of the URL map (pages and API) called by seven "
        "identities (anonymous or a colleague with a feedback link, the employee, the manager "
        "of the team, of the team above it, of an unrelated team, an admin, another tenant's "
        "admin) gets the outcome its row states; refusals write nothing; no answer to the "
        "other tenant carries our names, addresses or ids",
        "tests/security/test_authorization.py",
        routes=len(routes),
        identities=len(IDENTITIES),
        cells_checked=len(routes) * len(IDENTITIES),
        refused_cells=refused,
        violations=len(violations),
        events_written_by_refusals=len(written_when_refused),
        answers_to_the_other_tenant_with_our_data=len(leaked),
    )
