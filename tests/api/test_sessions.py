"""Server-side sessions and the end of every credential (issue #20), over HTTP.

Each test logs in through the login page as a browser does, keeps copies of cookies as an
attacker would, and checks what the gateway answers to them afterwards. Time moves through
``SESSION_CLOCK`` (never a sleep).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, text, update

from shared import directory
from shared.commands import Actor, OrganizationCommands
from shared.directory import Person as PersonRow
from shared.eventlog import EventStore
from shared.settings import Settings
from tests.api.conftest import Person, assert_problem
from tests.conftest import DemoOrg, make_org
from tests.databases import fresh_store
from tests.security.pages import log_in

pytestmark = pytest.mark.integration

COOKIE = "session"
DOMAIN = "compound.test"  # the test app's SERVER_NAME
CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')


@pytest.fixture
def browser(app: Flask) -> Callable[[Person], FlaskClient]:
    """``browser(person)``: a new test client logged in as ``person`` through the login page."""

    def open_browser(person: Person, agent: str = "pytest-browser") -> FlaskClient:
        client = app.test_client()
        client.environ_base["HTTP_USER_AGENT"] = agent
        log_in(client, person.email, person.password)
        return client

    return open_browser


@pytest.fixture
def clock(app: Flask) -> Iterator[list[timedelta]]:
    """``clock[0] = timedelta(hours=3)``: the gateway's time runs that far ahead."""
    offset = [timedelta(0)]
    app.config["SESSION_CLOCK"] = lambda: datetime.now(UTC) + offset[0]
    yield offset
    app.config.pop("SESSION_CLOCK", None)


def saved_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE, domain=DOMAIN)
    assert cookie is not None, "no session cookie"
    return cookie.value


def with_cookie(app: Flask, value: str) -> FlaskClient:
    """A fresh client carrying a copied session cookie (an attacker's replay)."""
    client = app.test_client()
    client.set_cookie(COOKIE, value, domain=DOMAIN)
    return client


def csrf_of(client: FlaskClient) -> str:
    found = CSRF.search(client.get("/account").get_data(as_text=True))
    assert found, "no CSRF token on /account"
    return found.group(1)


def form(client: FlaskClient, path: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(path, data={"csrf_token": csrf_of(client), **(data or {})})


def api(client: FlaskClient, method: str, path: str, body: Any = None) -> Any:
    """A session-authenticated API call (with the CSRF header its writes need)."""
    headers = {} if method == "GET" else {"X-CSRFToken": csrf_of(client)}
    return client.open(path, method=method, json=body, headers=headers)


def assert_logged_out(client: FlaskClient) -> None:
    """The API answers 401 and a page sends to the login page."""
    assert_problem(client.get("/api/v1/me"), 401)
    page = client.get("/capital")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login"), page


def assert_logged_in(client: FlaskClient, person: Person) -> None:
    me = client.get("/api/v1/me")
    assert me.status_code == 200, me.get_data(as_text=True)
    assert me.get_json()["person_id"] == str(person.id)
    assert client.get("/capital").status_code == 200


def mint(client: FlaskClient, **body: Any) -> Any:
    return api(client, "POST", "/api/v1/me/tokens", {"name": "script", **body})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- logout and the saved cookie -------------------------------------------------------------


def test_a_cookie_saved_before_logout_is_refused(
    app: Flask, browser: Callable[..., FlaskClient], new_person: Callable[..., Person]
):
    person = new_person()
    client = browser(person)
    saved = saved_cookie(client)
    assert_logged_in(with_cookie(app, saved), person)
    assert form(client, "/logout").status_code == 302
    assert_logged_out(client)
    assert_logged_out(with_cookie(app, saved))


def test_the_cookie_carries_no_person_id(
    app: Flask, browser: Callable[..., FlaskClient], new_person: Callable[..., Person]
):
    """Before sessions lived on the server, the signed cookie named the person
    (Flask-Login's ``_user_id``); one such cookie, signed with the right key, logs no one in."""
    person = new_person()
    client = browser(person)
    assert str(person.id) not in saved_cookie(client)
    legacy = app.test_client()
    with legacy.session_transaction() as session:
        session["_user_id"] = str(person.id)
        session["_fresh"] = True
    assert_logged_out(legacy)


def test_a_tampered_cookie_is_refused(
    app: Flask, browser: Callable[..., FlaskClient], new_person: Callable[..., Person]
):
    person = new_person()
    saved = saved_cookie(browser(person))
    payload, rest = saved.split(".", 1)
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    assert_logged_out(with_cookie(app, f"{flipped}.{rest}"))
    assert_logged_out(with_cookie(app, saved[:-3] + "abc"))  # another signature
    assert_logged_out(with_cookie(app, "not-a-cookie"))


def test_each_login_is_a_session_of_its_own(
    browser: Callable[..., FlaskClient], new_person: Callable[..., Person]
):
    person = new_person()
    laptop, phone = browser(person, "Laptop/1.0"), browser(person, "Phone/2.0")
    listed = laptop.get("/api/v1/me/sessions").get_json()
    assert sorted(s["user_agent"] for s in listed) == ["Laptop/1.0", "Phone/2.0"]
    assert [s["user_agent"] for s in listed if s["current"]] == ["Laptop/1.0"]
    assert form(laptop, "/logout").status_code == 302
    assert_logged_in(phone, person)
    assert [s["user_agent"] for s in phone.get("/api/v1/me/sessions").get_json()] == ["Phone/2.0"]


# -- revoking a session from another device -----------------------------------------------------


def test_a_session_revoked_from_another_device_ends(
    browser: Callable[..., FlaskClient], new_person: Callable[..., Person]
):
    person = new_person()
    laptop, phone = browser(person, "Laptop/1.0"), browser(person, "Phone/2.0")
    sessions = laptop.get("/api/v1/me/sessions").get_json()
    (phone_id,) = [s["id"] for s in sessions if s["user_agent"] == "Phone/2.0"]
    assert api(laptop, "DELETE", f"/api/v1/me/sessions/{phone_id}").status_code == 204
    assert_logged_out(phone)
    assert_logged_in(laptop, person)
    assert_problem(api(laptop, "DELETE", f"/api/v1/me/sessions/{phone_id}"), 404)  # again


def test_a_session_is_revoked_from_the_account_page(
    browser: Callable[..., FlaskClient], new_person: Callable[..., Person]
):
    person = new_person()
    laptop, phone = browser(person, "Laptop/1.0"), browser(person, "Phone/2.0")
    page = laptop.get("/account").get_data(as_text=True)
    assert "Laptop/1.0" in page and "Phone/2.0" in page and "this session" in page
    ids = re.findall(r'action="/account/sessions/([0-9a-f-]{36})/end"', page)
    phone_id = next(
        s["id"] for s in laptop.get("/api/v1/me/sessions").get_json() if not s["current"]
    )
    assert phone_id in ids
    assert form(laptop, f"/account/sessions/{phone_id}/end").status_code == 302
    assert_logged_out(phone)
    assert_logged_in(laptop, person)


def test_another_persons_or_tenants_session_cannot_be_revoked(
    app: Flask,
    browser: Callable[..., FlaskClient],
    new_person: Callable[..., Person],
    other_org: DemoOrg,
):
    victim = new_person()
    victims = browser(victim)
    (victim_session,) = [s["id"] for s in victims.get("/api/v1/me/sessions").get_json()]
    colleague = browser(new_person())
    assert_problem(api(colleague, "DELETE", f"/api/v1/me/sessions/{victim_session}"), 404)
    assert form(colleague, f"/account/sessions/{victim_session}/end").status_code == 404
    stranger = app.test_client()
    log_in(stranger, other_org.emails["admin"], other_org.password)
    assert_problem(api(stranger, "DELETE", f"/api/v1/me/sessions/{victim_session}"), 404)
    assert_problem(api(stranger, "DELETE", f"/api/v1/me/sessions/{uuid.uuid4()}"), 404)
    assert_logged_in(victims, victim)


# -- idle and absolute lifetimes ----------------------------------------------------------------


def test_an_idle_session_ends(
    browser: Callable[..., FlaskClient], new_person: Callable[..., Person], clock: list[timedelta]
):
    person = new_person()
    client = browser(person)
    clock[0] = timedelta(minutes=119)  # idle lifetime: 120 minutes (the default)
    assert_logged_in(client, person)  # seen now: the idle time starts again
    clock[0] = timedelta(minutes=119 + 119)
    assert_logged_in(client, person)
    clock[0] = timedelta(minutes=119 + 119 + 121)
    assert_logged_out(client)


def test_a_busy_session_ends_at_its_absolute_lifetime(
    app: Flask,
    browser: Callable[..., FlaskClient],
    new_person: Callable[..., Person],
    clock: list[timedelta],
):
    person = new_person()
    client = browser(person)
    for hours in range(1, 24 * 7):  # used every hour for a week (the default maximum)
        clock[0] = timedelta(hours=hours)
        assert client.get("/api/v1/me").status_code == 200, hours
    clock[0] = timedelta(hours=24 * 7, minutes=1)
    assert_logged_out(client)


def test_last_seen_is_written_at_most_once_a_minute(
    engine: Engine,
    browser: Callable[..., FlaskClient],
    new_person: Callable[..., Person],
    clock: list[timedelta],
):
    person = new_person()
    client = browser(person)

    def last_seen() -> datetime:
        with engine.connect() as conn:
            seen: datetime = conn.execute(
                text("SELECT last_seen_at FROM web_sessions WHERE person_id = :p"),
                {"p": person.id},
            ).scalar_one()
        return seen

    first = last_seen()
    clock[0] = timedelta(seconds=30)
    client.get("/api/v1/me")
    assert last_seen() == first
    clock[0] = timedelta(seconds=61)
    client.get("/api/v1/me")
    assert last_seen() > first


# -- password change, log out everywhere, role change, erasure ---------------------------------


def test_a_password_change_keeps_this_session_and_ends_every_other_credential(
    app: Flask, browser: Callable[..., FlaskClient], new_person: Callable[..., Person]
):
    person = new_person()
    here, elsewhere = browser(person), browser(person)
    saved_here = saved_cookie(here)
    login_token = app.test_client().post(
        "/api/v1/auth/token", json={"email": person.email, "password": person.password}
    )
    login_token = login_token.get_json()["access_token"]
    personal = mint(here).get_json()["access_token"]
    client = app.test_client()
    for token in (login_token, personal, person.headers["Authorization"].split()[1]):
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    changed = form(
        here,
        "/account/password",
        {
            "current_password": person.password,
            "new_password": "a-whole-new-password",
            "confirm_password": "a-whole-new-password",
        },
    )
    assert changed.status_code == 302
    assert_logged_in(here, person)  # the device that changed it carries on
    assert_logged_out(elsewhere)
    assert_logged_out(with_cookie(app, saved_here))  # its cookie from before the change too
    for token in (login_token, personal, person.headers["Authorization"].split()[1]):
        assert_problem(client.get("/api/v1/me", headers=bearer(token)), 401)
    # A token made after the change works.
    fresh = mint(here).get_json()["access_token"]
    assert client.get("/api/v1/me", headers=bearer(fresh)).status_code == 200


def test_log_out_everywhere_ends_every_session_and_token(
    app: Flask, browser: Callable[..., FlaskClient], new_person: Callable[..., Person]
):
    person = new_person()
    laptop, phone = browser(person), browser(person)
    personal = mint(laptop).get_json()["access_token"]
    assert api(phone, "POST", "/api/v1/me/sessions:end-all").status_code == 204
    assert_logged_out(phone)
    assert_logged_out(laptop)
    client = app.test_client()
    assert_problem(client.get("/api/v1/me", headers=bearer(personal)), 401)
    assert_problem(client.get("/api/v1/me", headers=person.headers), 401)
    again = browser(person)  # logging in again works
    assert_logged_in(again, person)


def test_log_out_everywhere_from_the_account_page(
    app: Flask, browser: Callable[..., FlaskClient], new_person: Callable[..., Person]
):
    person = new_person()
    laptop, phone = browser(person), browser(person)
    assert "Log out everywhere" in laptop.get("/account").get_data(as_text=True)
    ended = form(laptop, "/account/sessions/end-all")
    assert ended.status_code == 302 and ended.headers["Location"] == "/login"
    assert_logged_out(laptop)
    assert_logged_out(phone)
    assert_problem(app.test_client().get("/api/v1/me", headers=person.headers), 401)


def test_a_role_change_ends_every_credential(
    store: EventStore,
    org: DemoOrg,
    browser: Callable[..., FlaskClient],
    new_person: Callable[..., Person],
    client: FlaskClient,
):
    person = new_person()
    session = browser(person)
    admin = Actor(tenant_id=org.tenant_id, person_id=org.admin, role="admin", source="test")
    OrganizationCommands(store).change_role(admin, person.id, "manager")
    assert_logged_out(session)
    assert_problem(client.get("/api/v1/me", headers=person.headers), 401)


def test_erasure_forgets_the_sessions(
    engine: Engine, browser: Callable[..., FlaskClient], new_person: Callable[..., Person]
):
    """A session row holds a user agent and an address: personal data, gone with the person."""
    person = new_person()
    client, other = browser(person), browser(person)
    erased = form(client, "/data/erase", {"confirm": "erase my data"})
    assert erased.status_code == 302
    assert_logged_out(other)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT count(*) FROM web_sessions WHERE person_id = :p"), {"p": person.id}
        ).scalar_one()
    assert rows == 0


def test_a_directory_rebuild_keeps_credentials_valid_after(
    postgres_server_url: str, master_key: str
):
    """``credentials_valid_after`` is derived from the log: a rebuild of the directory gives
    it back. On a database of its own: the session's holds other tests' raw appends (people
    of organisations never created), which a whole-directory rebuild cannot replay."""
    with fresh_store(postgres_server_url, master_key, "compound_sessions") as own:
        org = make_org(own, people_per_team=1)
        person = org.people["platform-1"]
        actor = Actor(tenant_id=org.tenant_id, person_id=person, source="test")
        OrganizationCommands(own).sign_out_everywhere(actor)

        def valid_after() -> datetime | None:
            with own.engine.connect() as conn:
                moment: datetime | None = conn.execute(
                    select(PersonRow.credentials_valid_after).where(PersonRow.id == person)
                ).scalar_one()
            return moment

        before = valid_after()
        assert before is not None
        with own.engine.begin() as conn:
            conn.execute(update(PersonRow).values(credentials_valid_after=None))
        directory.rebuild(own)
        assert valid_after() == before


def test_ended_and_expired_sessions_are_forgotten_by_the_scheduler(
    app: Flask, engine: Engine, settings: Settings, org: DemoOrg
) -> None:
    """The scheduler's hourly purge deletes the rows of sessions ended or expired (they keep
    user agents and addresses) and leaves the running ones."""
    from shared.sessions import Lifetimes, end, purge, start
    from workers.scheduler import purge_sessions

    lifetimes = Lifetimes(idle=timedelta(minutes=35), absolute=timedelta(hours=2))
    now = datetime.now(UTC)
    person = org.people["payments-1"]

    def session(at: datetime) -> uuid.UUID:
        return start(engine, org.tenant_id, person, "agent", "127.0.0.1", at, lifetimes)[0]

    running = session(now)
    idle = session(now - timedelta(minutes=40))
    with engine.begin() as conn:  # seen 10 minutes ago, but started 3 hours ago
        old = session(now - timedelta(hours=3))
        conn.execute(
            text("UPDATE web_sessions SET last_seen_at = :t WHERE id = :id"),
            {"t": now - timedelta(minutes=10), "id": old},
        )
    ended = session(now)
    assert end(engine, ended, "logout", now)
    assert purge(engine, now, lifetimes) >= 2  # (a login forgets its person's ended ones too)
    with engine.connect() as conn:
        left = {
            r[0]
            for r in conn.execute(
                text("SELECT id FROM web_sessions WHERE person_id = :p"), {"p": person}
            )
        }
    assert running in left and not {idle, old, ended} & left
    assert purge_sessions(engine, settings) >= 0  # the job runs with the settings' lifetimes


# -- the language settings read with the session ---------------------------------------------


def test_the_session_reads_the_persons_language_settings(
    engine: Engine, store: EventStore, org: DemoOrg, new_person: Callable[..., Person]
):
    """The session's look-up carries what ``language_settings`` answers (the page's language
    needs no query of its own), before and after the person chooses a language."""
    from shared import sessions
    from shared.i18n.preferences import choose_language, language_settings

    person = new_person()
    now, lifetimes = datetime.now(UTC), sessions.Lifetimes()
    _, secret = sessions.start(
        engine, org.tenant_id, person.id, "pytest", "127.0.0.1", now, lifetimes
    )

    def both() -> tuple[Any, Any]:
        found = sessions.caller_for(engine, secret, now, lifetimes)
        assert found is not None
        with engine.connect() as conn:
            return found.languages, language_settings(conn, org.tenant_id, person.id)

    read, expected = both()
    assert read == expected and read[0] is None
    actor = Actor(tenant_id=org.tenant_id, person_id=person.id, role="employee", source="test")
    choose_language(store, actor, "fr")
    read, expected = both()
    assert read == expected and read[0] == "fr"
    choose_language(store, actor, "")  # automatic again: no choice
    read, expected = both()
    assert read == expected and read[0] is None
