"""The local provider's OpenID Connect state: signing keys, codes, access tokens, ID tokens.

Keys are RSA (RS256), generated when the provider starts; :meth:`IdentityState.rotate`
publishes a new one (the old stays published beside it, as real providers overlap them).
A test may make the next ID token misbehave (:data:`FAULTS`): signed by a key outside the
published set or with a forged signature, for another audience, expired, carrying an earlier
sign-in's nonce, or with an unverified e-mail. Everything lives in memory: a restarted
provider has new keys, which relying parties pick up by re-reading the JWKS.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from authlib.oidc.core.util import create_half_hash
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

FAULTS = (
    "wrong_signature",
    "wrong_aud",
    "expired",
    "replayed_nonce",
    "unknown_kid",
    "unverified_email",
)
CODE_SECONDS = 300
ID_TOKEN_SECONDS = 300


def new_key() -> RSAKey:
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"})
    key.ensure_kid()
    return key


@dataclass
class OidcCode:
    """An authorization code of the OpenID flow (kept in memory, used once)."""

    code: str
    client_id: str
    email: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    created_at: float = field(default_factory=time.time)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None

    def is_expired(self) -> bool:
        return time.time() - self.created_at > CODE_SECONDS


def subject_of(email: str) -> str:
    """A stable, opaque subject for an account (as providers give: not the e-mail)."""
    return hashlib.sha256(email.lower().encode()).hexdigest()[:32]


def display_name(email: str) -> str:
    return email.split("@")[0].replace(".", " ").title()


class IdentityState:
    """Keys, codes, tokens and the next fault, shared by the provider's threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keys: list[RSAKey] = [new_key()]
        self.codes: dict[str, OidcCode] = {}
        self.tokens: dict[str, tuple[str, str, float]] = {}  # access token: email, scope, until
        self.fault: str | None = None
        self.last_nonce: str | None = None
        self.unverified: set[str] = set()

    def jwks(self) -> dict[str, Any]:
        with self.lock:
            return dict(KeySet(list(self.keys)).as_dict(private=False))

    def rotate(self) -> str:
        """Publish a new signing key (the previous one stays published); its kid."""
        key = new_key()
        with self.lock:
            self.keys = [key, *self.keys[:1]]
        return str(key.kid)

    def set_fault(self, fault: str | None) -> None:
        with self.lock:
            self.fault = fault

    def save_code(self, code: OidcCode) -> None:
        with self.lock:
            self.codes[code.code] = code

    def take_code(self, code: str) -> OidcCode | None:
        with self.lock:
            return self.codes.pop(code, None)

    def find_code(self, code: str) -> OidcCode | None:
        with self.lock:
            return self.codes.get(code)

    def save_access(self, token: str, email: str, scope: str, seconds: int) -> None:
        with self.lock:
            self.tokens[token] = (email, scope, time.time() + seconds)

    def access(self, token: str) -> tuple[str, str] | None:
        with self.lock:
            found = self.tokens.get(token)
        if found is None or found[2] < time.time():
            return None
        return found[0], found[1]

    def user_info(self, email: str, scope: str) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": subject_of(email)}
        scopes = scope.split()
        if "email" in scopes:
            claims["email"] = email
            claims["email_verified"] = email not in self.unverified
        if "profile" in scopes:
            claims["name"] = display_name(email)
        return claims

    def id_token(self, issuer: str, client_id: str, code: OidcCode, access_token: str) -> str:
        """The signed ID token for ``code``, with the pending fault (if any) applied once."""
        with self.lock:
            fault, self.fault = self.fault, None
            previous, self.last_nonce = self.last_nonce, code.nonce
            signer = self.keys[0]
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + ID_TOKEN_SECONDS,
            "auth_time": code.auth_time,
            "at_hash": create_half_hash(access_token, "RS256").decode(),
            **self.user_info(code.email, code.scope),
        }
        if code.nonce:
            claims["nonce"] = code.nonce
        header = {"alg": "RS256", "kid": signer.kid}
        key = signer
        if fault == "wrong_aud":
            claims["aud"] = "someone-else"
        elif fault == "expired":
            claims["iat"], claims["exp"] = now - 3 * 3600, now - 2 * 3600
        elif fault == "replayed_nonce":
            claims["nonce"] = previous or secrets.token_urlsafe(16)
        elif fault == "unverified_email":
            claims["email_verified"] = False
        elif fault == "unknown_kid":
            key = new_key()
            header["kid"] = key.kid
        elif fault == "wrong_signature":
            key = new_key()  # the published kid, another key's signature
        return jwt.encode(header, claims, key)
