"""The provider's OAuth 2 authorization server (Authlib): code grant with PKCE, refresh tokens
with rotation, revocation, and the resource protector of its calendar API.

One confidential client is registered from settings. PKCE is required with S256: an
authorization request without a challenge is refused, and a code can only be exchanged
with its verifier. Each refresh issues a new refresh token and revokes the old one, so a
stolen refresh token stops working as soon as the client uses its own.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge

from services.calendar_provider.storage import ProviderStorage, StoredCode, StoredToken

# Google's scopes that may read events (the events.list method of the Calendar v3 discovery
# document), narrowest last; the provider knows them by their full names only, as Google does.
GOOGLE_READ_SCOPES = (
    "calendar",
    "calendar.readonly",
    "calendar.events",
    "calendar.events.readonly",
    "calendar.events.owned",
    "calendar.events.owned.readonly",
)
SCOPES = (
    *(f"https://www.googleapis.com/auth/{s}" for s in GOOGLE_READ_SCOPES),
    "Calendars.ReadBasic",
    "Calendars.Read",
    "offline_access",
)
CODE_SECONDS = 300


@dataclass
class User:
    email: str

    def get_user_id(self) -> str:
        return self.email


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        if not scope:
            return ""
        return " ".join(s for s in scope.split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(self.client_secret) and hmac.compare_digest(
            client_secret.encode(), self.client_secret.encode()
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


class AuthorizationCode:
    """A stored code, as Authlib's grant and PKCE extension read it."""

    def __init__(self, stored: StoredCode):
        self.stored = stored

    def get_redirect_uri(self) -> str | None:
        return self.stored.redirect_uri

    def get_scope(self) -> str:
        return self.stored.scope

    def is_expired(self) -> bool:
        return time.time() - self.stored.created_at > CODE_SECONDS


class Token:
    """A stored token pair, as Authlib's validators and endpoints read it."""

    def __init__(self, stored: StoredToken):
        self.stored = stored

    def check_client(self, client: Client) -> bool:
        return self.stored.client_id == client.client_id

    def get_scope(self) -> str:
        return self.stored.scope

    def get_expires_in(self) -> int:
        return self.stored.expires_in

    def is_expired(self) -> bool:
        return time.time() >= self.stored.issued_at + self.stored.expires_in

    def is_revoked(self) -> bool:
        return self.stored.access_revoked

    def get_user(self) -> User:
        return User(self.stored.email)

    def get_client(self) -> Any:
        return None


class S256Required(CodeChallenge):
    """PKCE for every client, confidential ones too, and only with S256."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE is required with code_challenge_method=S256")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'")
        super().validate_code_verifier(grant, result)

    def get_authorization_code_challenge(self, authorization_code: AuthorizationCode) -> Any:
        return authorization_code.stored.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: AuthorizationCode) -> Any:
        return authorization_code.stored.code_challenge_method


class ProviderServer(AuthorizationServer):
    """The authorization server of one client; its grants and endpoints read ``storage``
    through ``self.server``."""

    def __init__(self, storage: ProviderStorage, client: Client):
        self.storage = storage
        self.client = client
        super().__init__(query_client=self.query_registered_client, save_token=self.save_pair)

    def query_registered_client(self, client_id: str) -> Client | None:
        return self.client if client_id == self.client.client_id else None

    def save_pair(self, token: dict[str, Any], request: Any) -> None:
        self.storage.save_token(
            StoredToken(
                access_token=token["access_token"],
                refresh_token=token.get("refresh_token"),
                client_id=request.client.client_id,
                email=request.user.email,
                scope=token.get("scope", ""),
                issued_at=time.time(),
                expires_in=int(token.get("expires_in", 3600)),
                access_revoked=False,
                refresh_revoked=False,
            )
        )


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        self.server.storage.save_code(
            StoredCode(
                code=code,
                client_id=request.client.client_id,
                email=request.user.email,
                redirect_uri=request.payload.redirect_uri,
                scope=request.payload.scope or "",
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                created_at=time.time(),
            )
        )

    def query_authorization_code(self, code: str, client: Client) -> Any:
        stored = self.server.storage.find_code(code)
        if stored is None or stored.client_id != client.client_id:
            return None
        found = AuthorizationCode(stored)
        return None if found.is_expired() else found

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        # A code works once: deleted before the token is issued, so a replay finds nothing.
        self.server.storage.delete_code(authorization_code.stored.code)

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User:
        return User(authorization_code.stored.email)


class RotatingRefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        stored = self.server.storage.find_token(refresh=refresh_token)
        if stored is None or stored.refresh_revoked:
            return None
        return Token(stored)

    def authenticate_user(self, refresh_token: Token) -> User:
        return User(refresh_token.stored.email)

    def revoke_old_credential(self, refresh_token: Token) -> None:
        self.server.storage.revoke(refresh_token.stored.access_token)


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        storage = self.server.storage
        stored = None
        if token_type_hint != "refresh_token":
            stored = storage.find_token(access=token_string)
        if stored is None and token_type_hint != "access_token":
            stored = storage.find_token(refresh=token_string)
        return Token(stored) if stored else None

    def revoke_token(self, token: Token, request: Any) -> None:
        # Revoking either half ends the pair (RFC 7009 allows it; Google does it).
        self.server.storage.revoke(token.stored.access_token)


class Validator(BearerTokenValidator):
    def __init__(self, storage: ProviderStorage):
        super().__init__()
        self.storage = storage

    def authenticate_token(self, token_string: str) -> Token | None:
        stored = self.storage.find_token(access=token_string)
        return Token(stored) if stored else None


def build_server(storage: ProviderStorage, client: Client) -> tuple[AuthorizationServer, Any]:
    """The authorization server and the resource protector, bound to ``storage``."""
    server = ProviderServer(storage, client)
    server.register_grant(CodeGrant, [S256Required(required=True)])
    server.register_grant(RotatingRefreshGrant)
    server.register_endpoint(Revocation)
    protector = ResourceProtector()
    protector.register_token_validator(Validator(storage))
    return server, protector


def new_secret() -> str:
    return secrets.token_urlsafe(32)
