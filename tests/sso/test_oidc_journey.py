"""The OpenID Connect sign-in against the local provider over real HTTP: the journey, each
ID-token check broken on purpose (refused, nothing written, nobody signed in), key
rotation, replays, just-in-time accounts, "SSO required" and RP-initiated logout."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import text

from services.calendar_provider.oidc_tokens import FAULTS
from shared.sso.oidc import REFETCH_SECONDS, Discovery
from tests.sso.conftest import (
    PASSWORD,
    SsoWorld,
    at_provider,
    continue_link,
    finish,
    sign_in,
    signed_in,
    start,
)

pytestmark = pytest.mark.integration


def links(world: SsoWorld) -> int:
    with world.store.engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM events "
                    "WHERE tenant_id = :t AND type = 'SsoIdentityLinked'"
                ),
                {"t": world.tenant_id},
            ).scalar_one()
        )


def test_the_login_page_sends_the_domain_to_the_provider_with_pkce_state_and_nonce(
    sso_world: SsoWorld,
) -> None:
    journey = start(sso_world, sso_world.email("ada"))
    asked = journey.query(journey.authorize_url)
    assert journey.authorize_url.startswith(f"{sso_world.provider_url}/oidc/authorize?")
    assert asked["response_type"] == "code"
    assert asked["client_id"] == sso_world.client_id
    assert asked["redirect_uri"] == f"{sso_world.gateway_url}/auth/oidc/callback"
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert len(asked["state"]) >= 20 and len(asked["nonce"]) >= 20
    assert set(asked["scope"].split()) == {"openid", "email", "profile"}
    assert asked["login_hint"] == sso_world.email("ada")


def test_first_sign_in_matches_the_person_by_verified_email_then_by_identity(
    sso_world: SsoWorld,
) -> None:
    before = links(sso_world)
    journey = sign_in(sso_world, "grace")
    assert journey.callback is not None and journey.callback.status_code == 302
    assert signed_in(sso_world, journey)
    me = journey.http.get(f"{sso_world.gateway_url}/account", timeout=10)
    assert sso_world.email("grace") in me.text
    assert links(sso_world) == before + 1
    again = sign_in(sso_world, "grace")  # linked now: no second link
    assert signed_in(sso_world, again) and links(sso_world) == before + 1
    with sso_world.store.engine.connect() as conn:  # the audit's sign-ins: how
        methods = conn.execute(
            text(
                "SELECT data->>'method' FROM events WHERE tenant_id = :t AND type = 'SignedIn' "
                "ORDER BY position"
            ),
            {"t": sso_world.tenant_id},
        ).scalars()
        assert list(methods)[-2:] == ["sso", "sso"]


@pytest.mark.parametrize("fault", FAULTS)
def test_a_broken_id_token_is_refused_and_writes_nothing(sso_world: SsoWorld, fault: str) -> None:
    sign_in(sso_world, "ada")  # the provider now holds a nonce it can replay
    with sso_world.store.engine.connect() as conn:
        events = conn.execute(text("SELECT max(position) FROM events")).scalar_one()
    sso_world.provider_admin("/admin/oidc/fault", {"fault": fault})
    journey = at_provider(sso_world, start(sso_world, sso_world.email("admin")), "admin")
    answer = finish(journey)
    assert answer.status_code == 401, (fault, answer.status_code)
    assert "Single sign-on failed" in answer.text or "did not confirm" in answer.text
    assert not signed_in(sso_world, journey)
    with sso_world.store.engine.connect() as conn:
        written = conn.execute(
            text("SELECT count(*) FROM events WHERE position > :p AND tenant_id = :t"),
            {"p": events, "t": sso_world.tenant_id},
        ).scalar_one()
    assert written == 0


def test_a_rotated_key_is_fetched_and_accepted(sso_world: SsoWorld) -> None:
    clock = [1000.0]
    sso_world.gateway.extensions["sso_discovery"] = Discovery(clock=lambda: clock[0])
    assert signed_in(sso_world, sign_in(sso_world, "ada"))  # the gateway caches the JWKS
    kid = sso_world.provider_admin("/admin/oidc/rotate-key")["kid"]
    journey = sign_in(sso_world, "ada")
    assert signed_in(sso_world, journey), "a token signed with the new key was refused"
    jwks = requests.get(f"{sso_world.provider_url}/oidc/jwks", timeout=10).json()
    assert kid in [k["kid"] for k in jwks["keys"]]
    # a second rotation within REFETCH_SECONDS of the last forced read: not read again yet
    sso_world.provider_admin("/admin/oidc/rotate-key")
    assert finish_as(sso_world, "ada").status_code == 401
    clock[0] += REFETCH_SECONDS
    assert finish_as(sso_world, "ada").status_code == 302


def finish_as(world: SsoWorld, who: str) -> requests.Response:
    return finish(at_provider(world, start(world, world.email(who)), who))


def test_a_callback_works_once_and_only_with_its_own_state(sso_world: SsoWorld) -> None:
    journey = at_provider(sso_world, start(sso_world, sso_world.email("ada")), "ada")
    forged = journey.callback_url.replace("state=", "state=x")
    assert journey.http.get(forged, allow_redirects=False, timeout=10).status_code == 400
    assert finish(journey).status_code == 302
    replay = requests.Session()
    replay.cookies.update(journey.http.cookies)
    assert replay.get(journey.callback_url, allow_redirects=False, timeout=10).status_code == 400


def test_someone_without_an_account_is_refused_unless_jit_accounts_are_on(
    sso_world: SsoWorld,
) -> None:
    journey = sign_in(sso_world, "newcomer")
    assert journey.callback is not None and journey.callback.status_code == 401
    assert "no Compound account" in journey.callback.text
    sso_world.configure(jit_accounts=True)
    try:
        journey = sign_in(sso_world, "newcomer")
        assert signed_in(sso_world, journey)
        with sso_world.store.engine.connect() as conn:
            status = conn.execute(
                text("SELECT status FROM people WHERE lower(email) = :e"),
                {"e": sso_world.email("newcomer")},
            ).scalar_one()
        assert status == "active"
    finally:
        sso_world.configure()


def test_an_invited_person_joins_by_signing_in(sso_world: SsoWorld) -> None:
    journey = sign_in(sso_world, "invited")
    assert signed_in(sso_world, journey)


def test_sso_required_turns_passwords_off_except_for_the_break_glass_admin(
    sso_world: SsoWorld,
) -> None:
    def token_of(who: str) -> dict[str, str]:
        answer = requests.post(
            f"{sso_world.gateway_url}/api/v1/auth/token",
            json={"email": sso_world.email(who), "password": PASSWORD},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def me(headers: dict[str, str]) -> int:
        return requests.get(
            f"{sso_world.gateway_url}/api/v1/me", headers=headers, timeout=10
        ).status_code

    before = {who: token_of(who) for who in ("ada", "admin")}
    sso_world.configure(sso_required=True, break_glass_email=sso_world.email("admin"))
    try:
        # What passwords opened before ends, but the break-glass admin's.
        assert me(before["ada"]) == 401
        assert me(before["admin"]) == 200
        journey = start(sso_world, sso_world.email("ada"), password=PASSWORD)
        assert journey.authorize_url.startswith(sso_world.provider_url)  # routed, not let in
        token = requests.post(
            f"{sso_world.gateway_url}/api/v1/auth/token",
            json={"email": sso_world.email("ada"), "password": PASSWORD},
            timeout=10,
        )
        assert token.status_code == 401
        admin = requests.post(
            f"{sso_world.gateway_url}/api/v1/auth/token",
            json={"email": sso_world.email("admin"), "password": PASSWORD},
            timeout=10,
        )
        assert admin.status_code == 200
    finally:
        sso_world.configure()


def test_logout_ends_the_provider_session_too(sso_world: SsoWorld) -> None:
    journey = sign_in(sso_world, "ada")
    page = journey.http.get(f"{sso_world.gateway_url}/account", timeout=10)
    import re

    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert token
    out = journey.http.post(
        f"{sso_world.gateway_url}/logout",
        data={"csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    assert out.status_code == 200
    target = continue_link(out.text)
    assert target.startswith(f"{sso_world.provider_url}/oidc/logout?")
    back = journey.http.get(target, allow_redirects=False, timeout=10)
    assert back.headers["Location"].startswith(f"{sso_world.gateway_url}/login")
    assert not signed_in(sso_world, journey)
    again = start(sso_world, sso_world.email("ada"))  # the provider asks for the password again
    page = journey.http.get(again.authorize_url, allow_redirects=False, timeout=10)
    assert page.status_code == 200 and 'name="password"' in page.text


def test_an_unreachable_provider_is_a_clear_answer_and_writes_nothing(
    sso_world: SsoWorld,
) -> None:
    sso_world.configure(issuer="http://127.0.0.1:1")  # nothing listens there
    try:
        journey_http = requests.Session()
        page = journey_http.get(f"{sso_world.gateway_url}/login", timeout=10)
        from tests.sso.conftest import csrf

        with sso_world.store.engine.connect() as conn:
            head = conn.execute(text("SELECT max(position) FROM events")).scalar_one()
        answer = journey_http.post(
            f"{sso_world.gateway_url}/login",
            data={"csrf_token": csrf(page.text), "email": sso_world.email("ada"), "password": ""},
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 502
        assert "could not be reached" in answer.text
        with sso_world.store.engine.connect() as conn:
            written = conn.execute(
                text("SELECT count(*) FROM events WHERE position > :p AND tenant_id = :t"),
                {"p": head, "t": sso_world.tenant_id},
            ).scalar_one()
        assert written == 0
    finally:
        sso_world.configure()
