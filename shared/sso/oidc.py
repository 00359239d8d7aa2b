"""The relying party: an OpenID Connect client per organisation, with Authlib.

* :class:`Discovery` reads ``<issuer>/.well-known/openid-configuration`` (its ``issuer``
  must be the configured one) and the provider's JWKS, and caches both per issuer; an
  ID token signed with a key id the cached set lacks re-fetches the set once (key rotation),
  at most every :data:`REFETCH_SECONDS` per issuer (a stream of made-up key ids cannot make
  us hammer the provider).
* :func:`start` builds the authorization request: code flow, PKCE (S256), ``state`` and
  ``nonce`` (Authlib's ``OAuth2Session``).
* :func:`finish` exchanges the code (with the verifier) and checks the ID token: signature
  against the JWKS, ``iss``, ``aud`` (our client id), ``azp``, ``exp``, ``iat`` (not in the
  future, not older than :data:`MAX_ID_TOKEN_AGE`), ``nonce``, all with the clock skew of
  the settings (Authlib's ``CodeIDToken`` over joserfc).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from shared.i18n import N_

SCOPE = "openid email profile"
METADATA_SECONDS = 3600
"""How long discovery documents and key sets are kept before being read again."""
REFETCH_SECONDS = 10
"""The least time between two forced JWKS reads for one issuer (unknown ``kid``)."""
MAX_ID_TOKEN_AGE = 600
"""An ID token issued longer ago than this (plus the skew) is refused."""
HTTP_SECONDS = 10
UNSAFE_ALGORITHMS = frozenset({"none", "HS256", "HS384", "HS512"})


FAILED = N_("Single sign-on failed: try again.")
UNREACHABLE = N_("The identity provider could not be reached: try again in a moment.")


class SsoError(Exception):
    """A sign-in that must not go through; ``reason`` is logged, ``message`` shown."""

    def __init__(self, reason: str, message: str = FAILED):
        super().__init__(reason)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Started:
    """An authorization request on its way: where to send the browser, and what to keep."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass
class _Cached:
    value: Any
    fetched_at: float


class Discovery:
    """Discovery documents and key sets, per issuer, shared by the process's threads.

    Parameters:
        clock: seconds (tests move it); default ``time.monotonic``.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._metadata: dict[str, _Cached] = {}
        self._keys: dict[str, _Cached] = {}
        self._forced: dict[str, float] = {}
        self._http = requests.Session()
        self.adapter = requests.adapters.HTTPAdapter(pool_maxsize=16)
        """Shared by every token request: kept-alive connections to the providers."""
        self._http.mount("https://", self.adapter)
        self._http.mount("http://", self.adapter)

    def _get(self, url: str) -> Any:
        try:
            response = self._http.get(url, timeout=HTTP_SECONDS)
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError) as err:
            raise SsoError(
                f"provider unreachable: {url}: {err}",
                UNREACHABLE,
            ) from None

    def metadata(self, issuer: str) -> dict[str, Any]:
        """The issuer's discovery document (cached :data:`METADATA_SECONDS`).

        Raises:
            SsoError: unreachable, or a document for another issuer or without endpoints.
        """
        with self._lock:
            cached = self._metadata.get(issuer)
        if cached and self._clock() - cached.fetched_at < METADATA_SECONDS:
            return dict(cached.value)
        doc = self._get(issuer + "/.well-known/openid-configuration")
        if not isinstance(doc, dict) or doc.get("issuer") != issuer:
            raise SsoError(f"discovery names another issuer: {str(doc.get('issuer'))[:200]}")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(doc.get(name), str):
                raise SsoError(f"discovery lacks {name}")
        with self._lock:
            self._metadata[issuer] = _Cached(doc, self._clock())
        return dict(doc)

    def keys(self, issuer: str, force: bool = False) -> KeySet:
        """The issuer's signing keys; ``force`` re-reads them (rate-limited per issuer)."""
        now = self._clock()
        with self._lock:
            cached = self._keys.get(issuer)
            forced_at = self._forced.get(issuer)
            if force and forced_at is not None and now - forced_at < REFETCH_SECONDS:
                force = False  # read again a moment ago: not again yet
            if force:
                self._forced[issuer] = now
        if cached is not None and not force and now - cached.fetched_at < METADATA_SECONDS:
            return cached.value
        raw = self._get(self.metadata(issuer)["jwks_uri"])
        try:
            keys = KeySet.import_key_set(raw)
        except (JoseError, ValueError, TypeError, KeyError) as err:
            raise SsoError(f"unreadable JWKS: {err}") from None
        with self._lock:
            self._keys[issuer] = _Cached(keys, now)
        return keys

    def forget(self, issuer: str) -> None:
        """Drop what is cached for ``issuer`` (its configuration changed)."""
        with self._lock:
            self._metadata.pop(issuer, None)
            self._keys.pop(issuer, None)


def _session(
    client_id: str,
    secret: str,
    redirect_uri: str,
    meta: dict[str, Any],
    adapter: requests.adapters.HTTPAdapter | None = None,
) -> Any:
    methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    method = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
    session = OAuth2Session(
        client_id,
        secret,
        scope=SCOPE,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method=method,
        default_timeout=HTTP_SECONDS,
    )
    if adapter is not None:  # a session of its own (its token), the shared connections
        session.mount("https://", adapter)
        session.mount("http://", adapter)
    return session


def start(
    discovery: Discovery,
    issuer: str,
    client_id: str,
    redirect_uri: str,
    login_hint: str | None = None,
) -> Started:
    """The authorization request for one sign-in (code flow, PKCE S256, state, nonce)."""
    meta = discovery.metadata(issuer)
    verifier, nonce = generate_token(64), generate_token(32)
    extra = {"login_hint": login_hint} if login_hint else {}
    with _session(client_id, "", redirect_uri, meta) as client:
        url, state = client.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **extra
        )
    return Started(url, state, nonce, verifier)


def finish(
    discovery: Discovery,
    issuer: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    started: Started,
    skew: int,
) -> tuple[dict[str, Any], str]:
    """Exchange ``code`` and check the ID token.

    Returns:
        The ID token's claims, and the ID token itself (for RP-initiated logout).

    Raises:
        SsoError: the exchange failed, or a check of the ID token did.
    """
    meta = discovery.metadata(issuer)
    try:
        # Not closed: closing would close the shared adapter's kept-alive connections.
        client = _session(client_id, client_secret, redirect_uri, meta, discovery.adapter)
        token = client.fetch_token(
            meta["token_endpoint"], code=code, code_verifier=started.code_verifier
        )
    except (OAuth2Error, requests.RequestException, ValueError) as err:
        raise SsoError(f"code exchange failed: {err}") from None
    raw = token.get("id_token")
    if not isinstance(raw, str):
        raise SsoError("no id_token in the token response")
    claims = verify_id_token(discovery, issuer, client_id, raw, started.nonce, skew, token)
    return claims, raw


def verify_id_token(
    discovery: Discovery,
    issuer: str,
    client_id: str,
    raw: str,
    nonce: str,
    skew: int,
    token: dict[str, Any] | None = None,
    now: int | None = None,
) -> dict[str, Any]:
    """The claims of ``raw`` once every check passed (module docstring).

    Raises:
        SsoError: ``reason`` names the failed check.
    """
    meta = discovery.metadata(issuer)
    offered = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in offered if a not in UNSAFE_ALGORITHMS] or ["RS256"]
    try:
        try:
            decoded = jwt.decode(raw, discovery.keys(issuer), algorithms=algorithms)
        except InvalidKeyIdError:  # rotated: read the set again, once
            decoded = jwt.decode(raw, discovery.keys(issuer, force=True), algorithms=algorithms)
    except InvalidKeyIdError:
        raise SsoError("id_token signed with an unknown key (kid)") from None
    except (JoseError, ValueError, TypeError) as err:
        raise SsoError(f"id_token signature invalid: {type(err).__name__}: {err}") from None
    options = {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
        "nonce": {"essential": True},
    }
    params: dict[str, Any] = {"nonce": nonce, "client_id": client_id}
    if token and token.get("access_token"):
        params["access_token"] = token["access_token"]
    checked = CodeIDToken(decoded.claims, decoded.header, options, params)
    moment = int(time.time()) if now is None else now
    try:
        checked.validate(now=moment, leeway=skew)
    except JoseError as err:
        raise SsoError(f"id_token claim refused: {type(err).__name__}: {err}") from None
    if int(checked["iat"]) < moment - MAX_ID_TOKEN_AGE - skew:
        raise SsoError("id_token claim refused: issued too long ago (iat)")
    return dict(checked)
