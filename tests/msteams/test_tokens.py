"""The bot serves only activities whose token the Bot Framework signed for it: a missing,
forged, expired or foreign token answers 401 and nothing is queued; a replayed activity is
acknowledged and done once."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.msteams.conftest import TeamsWorld


def queued(world: TeamsWorld) -> int:
    return len(world.drain())


def test_a_signed_activity_is_acknowledged_and_queued(world: TeamsWorld) -> None:
    aad = world.add_user("someone@elsewhere.test")
    answer = world.post(world.activity(aad, text="hello"))
    assert answer.status_code == 200
    assert [kind for kind, _ in world.drain()] == ["activity"]


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "another-bot"},
        {"iss": "https://sts.windows.net/someone/"},
        {"exp": int(time.time()) - 10 * 60, "nbf": int(time.time()) - 70 * 60},
        {"serviceurl": "https://attacker.example/"},
    ],
    ids=["wrong-audience", "wrong-issuer", "expired", "other-service-url"],
)
def test_a_token_not_for_this_bot_is_refused(world: TeamsWorld, claims: dict[str, object]) -> None:
    activity = world.activity(world.add_user("x@elsewhere.test"), text="hello")
    answer = world.post(activity, world.state.token(activity["serviceUrl"], **claims))
    assert answer.status_code == 401
    assert answer.content_type == "application/problem+json"
    assert queued(world) == 0


def test_a_token_signed_with_another_key_is_refused(world: TeamsWorld) -> None:
    activity = world.activity(world.add_user("x@elsewhere.test"), text="hello")
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {
        "iss": "https://api.botframework.com",
        "aud": world.state.app_id,
        "serviceurl": activity["serviceUrl"],
        "nbf": now,
        "exp": now + 600,
    }
    for kid in (world.state.kid, "unknown-kid"):  # the real key's id, and a key not listed
        forged = jwt.encode(claims, forger, algorithm="RS256", headers={"kid": kid})
        assert world.post(activity, forged).status_code == 401
    unsigned = jwt.encode(claims, "s" * 32, algorithm="HS256", headers={"kid": world.state.kid})
    assert world.post(activity, unsigned).status_code == 401
    assert queued(world) == 0


def test_no_token_or_garbage_is_refused(world: TeamsWorld) -> None:
    activity = world.activity(world.add_user("x@elsewhere.test"), text="hello")
    client = world.app.test_client()
    assert client.post("/msteams/messages", json=activity).status_code == 401
    for header in ("Bearer", "Bearer not-a-jwt", "Basic abc", "bearer " + "x.y.z"):
        answer = client.post("/msteams/messages", json=activity, headers={"Authorization": header})
        assert answer.status_code == 401, header
    assert queued(world) == 0


def test_a_tampered_activity_keeps_its_token_but_not_its_service_url(world: TeamsWorld) -> None:
    """The token vouches for the service URL: the bot never answers to another address."""
    activity = world.activity(world.add_user("x@elsewhere.test"), text="hello")
    token = world.state.token(activity["serviceUrl"])
    activity["serviceUrl"] = "https://attacker.example/"
    assert world.post(activity, token).status_code == 401
    assert queued(world) == 0


def test_a_replayed_activity_is_done_once(world: TeamsWorld) -> None:
    activity = world.activity(world.add_user("x@elsewhere.test"), text="hello")
    assert world.post(activity).status_code == 200
    assert world.post(activity).status_code == 200  # the same request again, a new token
    assert queued(world) == 1


def test_channels_and_group_chats_are_not_served(world: TeamsWorld) -> None:
    activity = world.activity(world.add_user("x@elsewhere.test"), text="hello")
    activity["conversation"]["conversationType"] = "channel"
    assert world.post(activity).status_code == 200
    assert queued(world) == 0


def test_a_rotated_key_is_fetched_again_and_a_forged_kid_not_at_once(
    world: TeamsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Bot Framework rotates its keys: a token under a key the cached JWKS does not list
    makes the keys be fetched again (at most every five minutes), then it is accepted."""
    import shared.msteams.auth as auth

    activity = world.activity(world.add_user("x@elsewhere.test"), text="hello")
    assert world.post(activity).status_code == 200  # the keys are cached now
    monkeypatch.setattr(auth, "_refreshed", {})
    state = world.state
    old = (state.key, state.kid)
    try:
        with state.lock:
            state.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            state.kid = "rotated-" + state.kid
        rotated = world.activity(activity["from"]["aadObjectId"], text="again")
        assert world.post(rotated).status_code == 200
        assert queued(world) == 2
        with state.lock:
            state.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            state.kid = "again-" + state.kid
        soon = world.activity(activity["from"]["aadObjectId"], text="soon")
        assert world.post(soon).status_code == 401  # not fetched again within five minutes
        assert queued(world) == 0
    finally:
        with state.lock:
            state.key, state.kid = old
        monkeypatch.setattr(auth, "_refreshed", {})
        assert world.post(world.activity(activity["from"]["aadObjectId"])).status_code == 200
        assert queued(world) == 1
