"""The local provider as an OpenID Connect provider (issue 21): what ``make run`` and the
tests sign in through (docs/sso.md).

* ``GET /.well-known/openid-configuration`` (discovery; the issuer is the provider's URL as
  the caller reached it), ``GET /oidc/jwks``;
* ``GET/POST /oidc/authorize``: the sign-in page (any e-mail address, the provider's
  password), then the code; a browser signed in already goes straight back (SSO);
* ``POST /oidc/token``: code grant with PKCE (S256, required), ID token (RS256);
* ``GET/POST /oidc/userinfo`` (bearer), ``GET /oidc/logout`` (RP-initiated logout);
* ``POST /admin/oidc/rotate-key`` and ``POST /admin/oidc/fault`` (admin token): key rotation
  and a one-shot misbehaving ID token, for tests.

The registered client is the calendar one (same id and secret); its redirect URIs are the
calendar ones' origins with the path ``/auth/oidc/callback``.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.common.security import generate_token
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oidc.core.grants import OpenIDCode
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
)

from services.calendar_provider.oauth import Client, S256Required, User
from services.calendar_provider.oidc_tokens import FAULTS, IdentityState, OidcCode
from shared.calendar.settings import ProviderServerSettings

bp = Blueprint("oidc", __name__)
CALLBACK_PATH = "/auth/oidc/callback"
SCOPES = ("openid", "email", "profile")
SESSION_USER = "oidc_user"


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class OidcClient(Client):
    """The calendar client, for sign-in: OpenID scopes, ``/auth/oidc/callback`` redirects."""

    def get_default_redirect_uri(self) -> str:
        return _origin(self.redirect_uris[0]) + CALLBACK_PATH

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        allowed = {_origin(u) + CALLBACK_PATH for u in self.redirect_uris}
        return redirect_uri in allowed

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"

    def logout_target_allowed(self, uri: str) -> bool:
        return _origin(uri) in {_origin(u) for u in self.redirect_uris}


class Pkce(S256Required):
    def get_authorization_code_challenge(self, authorization_code: Any) -> Any:
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: Any) -> Any:
        return authorization_code.code_challenge_method


class IdTokens(OpenIDCode):
    """Authlib's OpenID extension, its ID token made by :class:`IdentityState`."""

    def __init__(self, state: IdentityState):
        super().__init__(require_nonce=True)
        self.state = state

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return False  # the relying party checks nonces; a fault may replay one on purpose

    def encode_id_token(self, token: dict[str, Any], request: Any) -> str:
        code = request.authorization_code
        issuer = _issuer()
        return self.state.id_token(issuer, request.client.client_id, code, token["access_token"])


class OidcCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        state: IdentityState = self.server.state
        state.save_code(
            OidcCode(
                code=code,
                client_id=request.client.client_id,
                email=request.user.email,
                redirect_uri=request.payload.redirect_uri,
                scope=request.payload.scope or "",
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                auth_time=int(time.time()),
            )
        )

    def query_authorization_code(self, code: str, client: Any) -> OidcCode | None:
        found = self.server.state.find_code(code)
        if found is None or found.client_id != client.client_id or found.is_expired():
            return None
        return found

    def delete_authorization_code(self, authorization_code: OidcCode) -> None:
        self.server.state.take_code(authorization_code.code)

    def authenticate_user(self, authorization_code: OidcCode) -> User:
        return User(authorization_code.email)


class OidcServer(AuthorizationServer):
    def __init__(self, client: OidcClient, state: IdentityState):
        self.client = client
        self.state = state
        super().__init__(query_client=self._query, save_token=self._save)
        self.load_config({})

    def _query(self, client_id: str) -> OidcClient | None:
        return self.client if client_id == self.client.client_id else None

    def _save(self, token: dict[str, Any], request: Any) -> None:
        seconds = int(token.get("expires_in", 3600))
        self.state.save_access(token["access_token"], request.user.email, token["scope"], seconds)


@dataclass
class Identity:
    settings: ProviderServerSettings
    client: OidcClient
    state: IdentityState
    server: OidcServer


def identity() -> Identity:
    found = current_app.extensions["oidc_provider"]
    assert isinstance(found, Identity)
    return found


def _issuer() -> str:
    return request.url_root.rstrip("/")


@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    base = _issuer()
    return jsonify(
        issuer=base,
        authorization_endpoint=f"{base}/oidc/authorize",
        token_endpoint=f"{base}/oidc/token",
        userinfo_endpoint=f"{base}/oidc/userinfo",
        jwks_uri=f"{base}/oidc/jwks",
        end_session_endpoint=f"{base}/oidc/logout",
        response_types_supported=["code"],
        subject_types_supported=["public"],
        id_token_signing_alg_values_supported=["RS256"],
        scopes_supported=list(SCOPES),
        token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
        code_challenge_methods_supported=["S256"],
        claims_supported=["sub", "iss", "aud", "exp", "iat", "nonce", "email", "name"],
    )


@bp.get("/oidc/jwks")
def jwks() -> Response:
    return jsonify(identity().state.jwks())


@bp.route("/oidc/authorize", methods=["GET", "POST"])
def authorize() -> Any:
    """Sign in (or, signed in already, go straight back with a code)."""
    ident = identity()
    try:
        grant = ident.server.get_consent_grant()
    except OAuth2Error as err:
        description = err.get_error_description() or err.error
        return render_template("oidc_login.html", grant=None, error=description), 400
    signed_in = session.get(SESSION_USER)
    if request.method == "GET":
        if isinstance(signed_in, str) and request.args.get("prompt") != "login":
            return ident.server.create_authorization_response(grant_user=User(signed_in))
        hint = request.args.get("login_hint", "")
        return render_template("oidc_login.html", grant=grant, error=None, email=hint)
    email = (request.form.get("email") or "").strip().lower()
    password = request.form.get("password") or ""
    if "@" not in email or not hmac.compare_digest(
        password.encode(), ident.settings.password.encode()
    ):
        page = render_template(
            "oidc_login.html", grant=grant, email=email, error="Wrong e-mail address or password."
        )
        return page, 401
    session[SESSION_USER] = email
    return ident.server.create_authorization_response(grant_user=User(email), grant=grant)


@bp.post("/oidc/token")
def token() -> Response:
    return identity().server.create_token_response()


@bp.route("/oidc/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    header = request.headers.get("Authorization", "")
    given = header[7:] if header.lower().startswith("bearer ") else ""
    found = identity().state.access(given) if given else None
    if found is None:
        response = jsonify(error="invalid_token")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    return jsonify(identity().state.user_info(*found))


@bp.get("/oidc/logout")
def logout() -> Any:
    """End the provider's session; back to the relying party when it names a registered
    origin."""
    session.pop(SESSION_USER, None)
    target = request.args.get("post_logout_redirect_uri", "")
    if target and identity().client.logout_target_allowed(target):
        state = request.args.get("state")
        return redirect(target + (("?" + urlencode({"state": state})) if state else ""))
    return render_template("oidc_login.html", grant=None, error=None, signed_out=True)


def _admin_denied() -> Response | None:
    expected = identity().settings.admin_token
    header = request.headers.get("Authorization", "")
    given = header[7:] if header.lower().startswith("bearer ") else ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        response = jsonify(error="admin token required")
        response.status_code = 401
        return response
    return None


@bp.post("/admin/oidc/rotate-key")
def rotate_key() -> Response:
    denied = _admin_denied()
    return denied or jsonify(kid=identity().state.rotate())


@bp.post("/admin/oidc/fault")
def fault() -> Response:
    """``{"fault": one of FAULTS}``: the next ID token misbehaves so; ``null`` clears it.
    ``{"unverified": "a@b.c"}``: that account's e-mail reads as not verified."""
    denied = _admin_denied()
    if denied:
        return denied
    body = request.get_json(silent=True) or {}
    state = identity().state
    if "unverified" in body:
        state.unverified.add(str(body["unverified"]).lower())
        return jsonify(unverified=sorted(state.unverified))
    chosen = body.get("fault")
    if chosen is not None and chosen not in FAULTS:
        response = jsonify(error=f"fault must be one of {', '.join(FAULTS)}")
        response.status_code = 422
        return response
    state.set_fault(chosen)
    return jsonify(fault=chosen)


def install(app: Flask, settings: ProviderServerSettings) -> None:
    """Make the provider speak OpenID Connect (called by ``create_app``)."""
    client = OidcClient(settings.client_id, settings.client_secret, settings.redirect_uris)
    state = IdentityState()
    server = OidcServer(client, state)
    server.register_grant(OidcCodeGrant, [Pkce(required=True), IdTokens(state)])
    app.extensions["oidc_provider"] = Identity(settings, client, state, server)
    if not app.secret_key:  # the sign-in remembered in the provider's cookie
        app.secret_key = generate_token(48)
    app.register_blueprint(bp)
