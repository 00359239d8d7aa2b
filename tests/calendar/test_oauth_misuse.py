"""OAuth misuse, over real HTTP against the local provider (services/calendar_provider) and the
gateway's connect flow: every way of bending the authorization-code + PKCE grant is refused,
and none connects a calendar. Each case is counted into docs/reliability.md.

Client side (the gateway's callback): a forged ``state``, no ``state``, a callback opened in a
browser session that never started the flow (someone else's code: the login-CSRF / account
linking attack), a replayed callback. Server side (the provider): no PKCE, PKCE ``plain``, a
token request without the verifier or with a wrong one, a replayed code, an unregistered
``redirect_uri`` at authorize, another ``redirect_uri`` at the token request than at
authorize, a wrong client secret. tests/calendar/test_grants.py checks several of these with
their messages; this battery checks all of them the same way and counts them.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from shared.calendar.providers import GOOGLE_SCOPE
from shared.commands import Actor, OrganizationCommands
from tests.calendar.conftest import PROVIDER_PASSWORD, CalendarWorld, query
from tests.reliability.report import FIGURES, write_page

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    """tests/calendar has no report hook of its own: write this module's row when it ends."""
    yield
    write_page(FIGURES)


def person(world: CalendarWorld) -> str:
    """A new person of the calendar organisation (``misuse-...``: nobody's colleague)."""
    commands = OrganizationCommands(world.store)
    admin = Actor(world.org.tenant_id, world.org.admin, role="admin", source="test")
    who = f"misuse-{uuid.uuid4().hex[:8]}"
    email = f"{who}@demo.test"
    invited = commands.invite(admin, email)
    commands.accept_invitation(world.org.tenant_id, invited.person_id, who, world.org.password)
    world.org.emails[who] = email
    world.org.people[who] = invited.person_id
    world.register(who)
    return who


def not_connected(world: CalendarWorld, *people: str) -> bool:
    return all(world.connections().of_person(world.org.people[p]) == {} for p in people)


def token_request(world: CalendarWorld, **data: str) -> requests.Response:
    secret = data.pop("client_secret", world.client_secret)
    return requests.post(
        f"{world.provider_url}/oauth/token",
        data={"grant_type": "authorization_code", "redirect_uri": world.redirect_uri, **data},
        auth=(world.client_id, secret),
        timeout=10,
    )


def refused_grant(response: requests.Response) -> bool:
    """An OAuth error answer that carries no token."""
    body = response.json() if response.content else {}
    return response.status_code in (400, 401) and "access_token" not in body and "error" in body


# -- client side: the gateway's callback ---------------------------------------------------------


def forged_state(world: CalendarWorld) -> bool:
    who = person(world)
    session = world.browser(who)
    callback = world.consent(session, world.start_connect(session), who)
    forged = callback.replace(f"state={query(callback)['state']}", "state=forged")
    return session.get(forged, timeout=10).status_code == 400 and not_connected(world, who)


def missing_state(world: CalendarWorld) -> bool:
    who = person(world)
    session = world.browser(who)
    callback = world.consent(session, world.start_connect(session), who)
    code = query(callback)["code"]
    bare = f"{world.gateway_url}/calendar/callback/local?code={code}"
    return session.get(bare, timeout=10).status_code == 400 and not_connected(world, who)


def someone_elses_callback(world: CalendarWorld) -> bool:
    attacker, victim = person(world), person(world)
    session = world.browser(attacker)
    callback = world.consent(session, world.start_connect(session), attacker)
    answer = world.browser(victim).get(callback, timeout=10)  # the victim never started
    return answer.status_code == 400 and not_connected(world, attacker, victim)


def replayed_callback(world: CalendarWorld) -> bool:
    who = person(world)
    session = world.browser(who)
    callback = world.consent(session, world.start_connect(session), who)
    assert session.get(callback, timeout=10).status_code == 200
    stream = f"calendar-{world.org.people[who]}"
    before = len(world.store.read_stream(stream))
    again = session.get(callback, timeout=10)
    return again.status_code == 400 and len(world.store.read_stream(stream)) == before


# -- server side: the provider ------------------------------------------------------------------


def authorize_params(world: CalendarWorld, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": world.client_id,
        "redirect_uri": world.redirect_uri,
        "scope": GOOGLE_SCOPE,
        "state": "s",
        **extra,
    }


def no_pkce(world: CalendarWorld) -> bool:
    url = f"{world.provider_url}/oauth/authorize"
    answer = requests.get(url, params=authorize_params(world), timeout=10)
    return answer.status_code == 400 and "code=" not in answer.headers.get("Location", "")


def plain_pkce(world: CalendarWorld) -> bool:
    params = authorize_params(world, code_challenge="a" * 43, code_challenge_method="plain")
    url = f"{world.provider_url}/oauth/authorize"
    answer = requests.get(url, params=params, timeout=10)
    return answer.status_code == 400 and "code=" not in answer.headers.get("Location", "")


def missing_verifier(world: CalendarWorld) -> bool:
    verifier = secrets.token_urlsafe(48)
    code = world.authorize(person(world), GOOGLE_SCOPE, verifier)
    return refused_grant(token_request(world, code=code))


def wrong_verifier(world: CalendarWorld) -> bool:
    code = world.authorize(person(world), GOOGLE_SCOPE, secrets.token_urlsafe(48))
    return refused_grant(token_request(world, code=code, code_verifier=secrets.token_urlsafe(48)))


def replayed_code(world: CalendarWorld) -> bool:
    verifier = secrets.token_urlsafe(48)
    code = world.authorize(person(world), GOOGLE_SCOPE, verifier)
    assert token_request(world, code=code, code_verifier=verifier).status_code == 200
    return refused_grant(token_request(world, code=code, code_verifier=verifier))


def unregistered_redirect_uri(world: CalendarWorld) -> bool:
    verifier = secrets.token_urlsafe(48)
    evil = "http://evil.test/steal"
    params = authorize_params(
        world,
        redirect_uri=evil,
        code_challenge=create_s256_code_challenge(verifier),
        code_challenge_method="S256",
    )
    url = f"{world.provider_url}/oauth/authorize"
    shown = requests.get(url, params=params, allow_redirects=False, timeout=10)
    who = person(world)
    consent = {"email": world.org.emails[who], "password": PROVIDER_PASSWORD, "decision": "allow"}
    posted = requests.post(url, params=params, data=consent, allow_redirects=False, timeout=10)
    to_evil = [
        r
        for r in (shown, posted)
        if urlsplit(r.headers.get("Location", "")).netloc == urlsplit(evil).netloc
    ]
    return shown.status_code == 400 and posted.status_code == 400 and not to_evil


def other_redirect_uri_at_token(world: CalendarWorld) -> bool:
    verifier = secrets.token_urlsafe(48)
    code = world.authorize(person(world), GOOGLE_SCOPE, verifier)
    other = world.redirect_uri + "/elsewhere"
    return refused_grant(
        token_request(world, code=code, code_verifier=verifier, redirect_uri=other)
    )


def wrong_client_secret(world: CalendarWorld) -> bool:
    verifier = secrets.token_urlsafe(48)
    code = world.authorize(person(world), GOOGLE_SCOPE, verifier)
    answer = token_request(world, code=code, code_verifier=verifier, client_secret="guess")
    return refused_grant(answer)


CLIENT_SIDE: dict[str, Callable[[CalendarWorld], bool]] = {
    "forged state": forged_state,
    "no state": missing_state,
    "someone else's callback": someone_elses_callback,
    "replayed callback": replayed_callback,
}
SERVER_SIDE: dict[str, Callable[[CalendarWorld], bool]] = {
    "no PKCE": no_pkce,
    "PKCE plain": plain_pkce,
    "no verifier": missing_verifier,
    "wrong verifier": wrong_verifier,
    "replayed code": replayed_code,
    "unregistered redirect_uri": unregistered_redirect_uri,
    "other redirect_uri at the token request": other_redirect_uri_at_token,
    "wrong client secret": wrong_client_secret,
}


def test_every_misuse_of_the_grant_is_refused(world: CalendarWorld) -> None:
    # The control: the same steps, unbent, connect a calendar (so a refusal below is the
    # misuse's doing, not a broken harness).
    world.connect(person(world))
    verifier = secrets.token_urlsafe(48)
    code = world.authorize(person(world), GOOGLE_SCOPE, verifier)
    assert token_request(world, code=code, code_verifier=verifier).status_code == 200
    accepted = [name for name, case in (CLIENT_SIDE | SERVER_SIDE).items() if not case(world)]
    assert not accepted, f"accepted: {accepted}"
    FIGURES.record(
        "oauth-misuse",
        "Security",
        "OAuth authorization code + PKCE, over HTTP against the local provider: a forged or "
        "missing state, someone else's callback, a replayed callback, no PKCE or PKCE plain, "
        "a missing or wrong verifier, a replayed code, an unregistered or changed "
        "redirect_uri, a wrong client secret: each refused, no calendar connected",
        "tests/calendar/test_oauth_misuse.py",
        gateway_cases_refused=len(CLIENT_SIDE),
        provider_cases_refused=len(SERVER_SIDE),
        accepted=0,
    )
