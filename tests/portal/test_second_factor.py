"""TOTP over HTTP: enrol in the account page, the login's second step (wrong, replayed and
recovery codes, the throttle), removal, bearer-token login with ``totp``, and the secret
kept encrypted in the log."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import Engine, text

from services.gateway.throttle import SECOND_FACTOR
from shared.commands.second_factor import second_factor_of, stream_of
from shared.eventlog import EventStore
from tests.conftest import DemoOrg, make_org
from tests.portal.conftest import Member, csrf_of
from tests.portal.second_factor_steps import (
    code_at,
    code_step,
    enrol,
    logged_out,
    password_step,
    secret_on,
    wrong_code,
)

pytestmark = pytest.mark.integration


def test_enrol_then_login_asks_the_code_after_the_password(
    member: Callable[..., Member],
) -> None:
    m = member()
    secret, _ = enrol(m)
    assert 'data-second-factor="on"' in m.page("/account/second-factor")
    logged_out(m)
    assert password_step(m.client, m.email, m.password, "/plan") == "/login/code"
    status, page, _ = code_step(m.client, wrong_code(secret))
    assert status == 401
    assert "Wrong code" in page
    status, where, _ = code_step(m.client, code_at(secret, 1))
    assert (status, where) == (302, "/plan")
    assert m.client.get("/plan").status_code == 200


def test_the_recovery_codes_are_shown_once_after_a_redirect(
    member: Callable[..., Member],
) -> None:
    m = member()
    _, codes = enrol(m)  # the post redirected; the codes page showed them
    again = m.client.get("/account/second-factor/recovery-codes")
    assert again.status_code == 302  # a refresh shows them no more, and sends nothing
    assert again.headers["Location"] == "/account/second-factor"
    page = m.page("/account/second-factor")
    assert 'data-second-factor="on"' in page
    assert not any(code in page for code in codes)


def test_a_code_is_good_once(member: Callable[..., Member]) -> None:
    m = member()
    secret, _ = enrol(m)
    logged_out(m)
    password_step(m.client, m.email, m.password)
    # The code that confirmed the enrolment cannot log in: its step is spent.
    assert code_step(m.client, code_at(secret))[0] == 401
    code = code_at(secret, 1)
    assert code_step(m.client, code)[0] == 302
    logged_out(m)
    password_step(m.client, m.email, m.password)
    assert code_step(m.client, code)[0] == 401  # replayed within its window


def test_a_recovery_code_logs_in_once(member: Callable[..., Member], engine: Engine) -> None:
    m = member()
    _, codes = enrol(m)
    logged_out(m)
    password_step(m.client, m.email, m.password)
    assert code_step(m.client, codes[3].upper())[0] == 302  # case and dashes do not matter
    assert "Recovery codes left: <strong>9</strong>" in m.page("/account/second-factor")
    logged_out(m)
    password_step(m.client, m.email, m.password)
    assert code_step(m.client, codes[3])[0] == 401
    assert code_step(m.client, codes[4])[0] == 302


def test_wrong_codes_are_throttled_then_even_the_right_one_waits(
    member: Callable[..., Member],
) -> None:
    m = member()
    secret, _ = enrol(m)
    logged_out(m)
    password_step(m.client, m.email, m.password)
    for _ in range(SECOND_FACTOR.free):
        assert code_step(m.client, "not-a-code")[0] == 401
    status, page, retry_after = code_step(m.client, code_at(secret, 1))
    assert status == 429
    assert int(retry_after) >= 1
    assert "Too many wrong codes" in page


def test_the_half_logged_in_state_grants_nothing(
    app: Flask, member: Callable[..., Member], store: EventStore
) -> None:
    """Between password and code, every page and API route answers as to a stranger."""
    m = member()
    enrol(m)
    logged_out(m)
    password_step(m.client, m.email, m.password)
    stranger = app.test_client()
    paths = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and not rule.arguments
        and rule.endpoint not in ("second_factor.code", "second_factor.enrol_at_login")
    )
    assert "/api/v1/me" in paths and "/account" in paths
    differ = {}
    for path in paths:
        half, anonymous = m.client.get(path), stranger.get(path)
        if half.status_code != anonymous.status_code or (
            half.status_code == 302 and half.headers["Location"] != anonymous.headers["Location"]
        ):
            differ[path] = (half.status_code, anonymous.status_code)
    assert differ == {}
    # Writes too: with the session's own CSRF token, nothing is done and nothing appended.
    token, head = csrf_of(m.client), store.head()
    action = {"csrf_token": token, "tactic": "learning_bit", "minutes": "10"}
    assert m.client.post("/actions", data=action).headers["Location"].startswith("/login?")
    tokens = m.client.post("/api/v1/me/tokens", json={"name": "x"}, headers={"X-CSRFToken": token})
    assert tokens.status_code == 401
    assert store.head() == head
    assert m.client.get("/login/code").status_code == 200  # the second step itself
    assert stranger.get("/login/code").status_code == 302  # needs the password first


def test_removal_needs_the_password_or_a_code(member: Callable[..., Member]) -> None:
    m = member()
    secret, _ = enrol(m)
    refused = m.post("/account/second-factor/remove", {"password": "not-it"})
    assert refused.status_code == 422
    assert "That is not your password." in refused.get_data(as_text=True)
    refused = m.post("/account/second-factor/remove", {"code": "123"})
    assert refused.status_code == 422
    removed = m.post("/account/second-factor/remove", {"code": code_at(secret, 1)})
    assert removed.status_code == 302
    logged_out(m)
    assert password_step(m.client, m.email, m.password) == "/"  # no second step any more
    # A new enrolment shows a new key.
    assert secret_on(m.page("/account/second-factor")) != secret


def test_enrolment_refuses_a_wrong_code(member: Callable[..., Member]) -> None:
    m = member()
    secret = secret_on(m.page("/account/second-factor"))
    response = m.post("/account/second-factor", {"code": "12345x"})
    assert response.status_code == 422
    assert "That code is not right" in response.get_data(as_text=True)
    assert secret_on(response.get_data(as_text=True)) == secret  # the same key, still shown


def test_a_bearer_token_login_needs_totp(app: Flask, member: Callable[..., Member]) -> None:
    m = member()
    secret, _ = enrol(m)
    api = app.test_client()
    body = {"email": m.email, "password": m.password}
    response = api.post("/api/v1/auth/token", json=body)
    assert response.status_code == 401
    assert response.get_json()["type"].endswith("/totp-required")
    assert "`totp`" in response.get_json()["detail"]
    wrong = {**body, "totp": wrong_code(secret)}
    assert api.post("/api/v1/auth/token", json=wrong).status_code == 401
    code = code_at(secret, 1)
    response = api.post("/api/v1/auth/token", json={**body, "totp": code})
    assert response.status_code == 200, response.get_json()
    token = response.get_json()["access_token"]
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert api.post("/api/v1/auth/token", json={**body, "totp": code}).status_code == 401


def test_the_secret_is_not_readable_in_the_database(
    member: Callable[..., Member], engine: Engine
) -> None:
    m = member()
    secret, codes = enrol(m)
    with engine.connect() as conn:
        rows = (
            conn.execute(
                text("SELECT data::text FROM events WHERE stream_id = :s"),
                {"s": f"second-factor-{m.id}"},
            )
            .scalars()
            .all()
        )
        dump = " ".join(
            conn.execute(text("SELECT row_to_json(p)::text FROM people p")).scalars().all()
        )
    assert len(rows) == 1
    assert "recovery_code_hashes" in rows[0]  # the row read is the enrolment
    assert secret not in rows[0] and secret not in dump
    assert not any(code in rows[0] for code in codes)


def test_another_persons_session_cannot_use_my_code_step(
    app: Flask, member: Callable[..., Member]
) -> None:
    """The second step belongs to the session that gave the password: a fresh session
    posting a code gets the login page, whoever's code it is."""
    m = member()
    secret, _ = enrol(m)
    other = app.test_client()
    response = other.post(
        "/login/code", data={"csrf_token": csrf_of(other), "code": code_at(secret, 1)}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert other.get("/").status_code == 302
    # The code was not spent by the refused post: the member's own second step takes it.
    logged_out(m)
    password_step(m.client, m.email, m.password)
    assert code_step(m.client, code_at(secret, 1))[0] == 302


def test_an_admin_turns_off_a_lost_second_factor(
    app: Flask, store: EventStore, org: DemoOrg, member: Callable[..., Member]
) -> None:
    """Phone and recovery codes lost: an admin of the organisation removes the factor (a
    retry answers alike and appends nothing), no one else can; the next login asks the
    password only."""
    m = member()
    enrol(m)
    path = f"/api/v1/people/{m.id}/second-factor"
    api = app.test_client()
    outsider = make_org(store, people_per_team=1)
    assert api.delete(path, headers=outsider.headers(api, "admin")).status_code == 404
    assert api.delete(path, headers=org.headers(api, "platform-1")).status_code == 403
    assert second_factor_of(store, m.id) is not None
    admin = org.headers(api, "admin")
    assert api.delete(path, headers=admin).status_code == 204
    assert second_factor_of(store, m.id) is None
    version = store.stream_version(stream_of(m.id))
    assert api.delete(path, headers=admin).status_code == 204  # retried: nothing more
    assert store.stream_version(stream_of(m.id)) == version
    logged_out(m)
    assert password_step(m.client, m.email, m.password, "/plan") == "/plan"
