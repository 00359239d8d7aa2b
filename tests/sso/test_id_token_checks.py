"""The ID-token checks as pure code: each claim broken on purpose, the signing algorithm
forced to ``none`` or HMAC, the clock at the edges of the skew. The discovery here is a
stand-in (a dict and a key set): the network side is tests/sso/test_oidc_journey.py."""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from shared.domain.errors import InvalidInput
from shared.sso.config import check, email_domain, issuer_errors, normalise_domains
from shared.sso.oidc import MAX_ID_TOKEN_AGE, SsoError, verify_id_token

ISSUER = "https://idp.example.com"
CLIENT = "compound"
NONCE = "n-0123456789abcdef"
KEY = RSAKey.generate_key(2048, parameters={"alg": "RS256"})
KEY.ensure_kid()


class StandIn:
    """A discovery with one issuer and one key set (no network: pure-code tests only)."""

    def __init__(self, keys: list[RSAKey]):
        self.key_set = KeySet(list(keys))
        self.forced = 0

    def metadata(self, issuer: str) -> dict[str, Any]:
        return {"issuer": ISSUER, "id_token_signing_alg_values_supported": ["RS256", "none"]}

    def keys(self, issuer: str, force: bool = False) -> KeySet:
        self.forced += force
        return self.key_set


def token(key: Any = KEY, header: dict[str, Any] | None = None, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": CLIENT, "sub": "s1", "iat": now, "exp": now + 300,
            "nonce": NONCE, **claims}  # fmt: skip
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(header or {"alg": "RS256", "kid": KEY.kid}, body, key)


def verify(raw: str, skew: int = 60, discovery: Any = None) -> dict[str, Any]:
    stand_in: Any = discovery or StandIn([KEY])
    return verify_id_token(stand_in, ISSUER, CLIENT, raw, NONCE, skew)


def test_a_good_token_passes() -> None:
    assert verify(token())["sub"] == "s1"


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "https://evil.example.com"},
        {"aud": "someone-else"},
        {"aud": ["someone-else", "another"]},
        {"nonce": "replayed"},
        {"nonce": None},
        {"sub": None},
        {"exp": int(time.time()) - 120},
        {"iat": int(time.time()) + 3600},
        {"iat": int(time.time()) - MAX_ID_TOKEN_AGE - 120},
        {"iat": None},
        {"exp": None},
    ],
)
def test_each_broken_claim_is_refused(claims: dict[str, Any]) -> None:
    with pytest.raises(SsoError):
        verify(token(**claims))


def test_the_skew_is_a_setting() -> None:
    late = token(exp=int(time.time()) - 30)
    assert verify(late, skew=60)
    with pytest.raises(SsoError):
        verify(late, skew=0)


def test_another_keys_signature_is_refused() -> None:
    other = RSAKey.generate_key(2048)
    with pytest.raises(SsoError, match="signature"):
        verify(token(key=other))  # the published kid in the header, another key's signature


def test_an_unknown_kid_reads_the_key_set_again_once_then_is_refused() -> None:
    other = RSAKey.generate_key(2048, parameters={"alg": "RS256"})
    other.ensure_kid()
    stand_in = StandIn([KEY])
    with pytest.raises(SsoError, match="unknown key"):
        verify(token(key=other, header={"alg": "RS256", "kid": other.kid}), discovery=stand_in)
    assert stand_in.forced == 1


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_unsigned_and_hmac_tokens_are_refused(alg: str) -> None:
    secret = OctKey.import_key(b"k" * 32)
    header = {"alg": alg, "kid": KEY.kid}
    try:
        raw = jwt.encode(header, {"iss": ISSUER, "aud": CLIENT, "sub": "s"}, secret,
                         algorithms=[alg])  # fmt: skip
    except Exception:  # joserfc may refuse to make one at all
        raw = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzIn0."
    with pytest.raises(SsoError):
        verify(raw)


def test_garbage_is_refused() -> None:
    for raw in ("", "a.b.c", "x" * 5000, token()[:-5] + "AAAAA"):
        with pytest.raises(SsoError):
            verify(raw)


def test_configuration_checks() -> None:
    assert issuer_errors("http://127.0.0.1:8010") == []
    assert issuer_errors("http://idp.example.com") != []
    assert email_domain("Ada@Example.COM") == "example.com" and email_domain("nope") is None
    assert normalise_domains(["A.example", "a.example."]) == (("a.example",), [])
    assert normalise_domains(["a" * 300 + ".com"])[1]
    with pytest.raises(InvalidInput) as refused:
        check({"issuer": "x", "client_id": "\x00", "domains": ["x"]}, secret_known=False)
    assert set(refused.value.errors) == {"issuer", "client_id", "client_secret", "domains"}
