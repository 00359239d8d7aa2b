"""Admin API of single sign-on (docs/sso.md): the organisation's OpenID Connect provider.

``GET /api/v1/org/sso`` shows it (never the secret), ``PUT`` sets it (the secret may be
left out to keep the stored one), ``DELETE`` ends it (passwords work again).
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields

from services.gateway.auth import current_caller
from services.gateway.resources import resources
from shared.domain.errors import Forbidden, NotFound, Text
from shared.sso import store as sso_store
from shared.sso.config import redirect_uri

blp = Blueprint("sso_admin", __name__, url_prefix="/api/v1", description="Single sign-on")


class SsoIn(Schema):
    issuer = fields.String(required=True)
    client_id = fields.String(required=True)
    client_secret = fields.String(load_default=None, allow_none=True)
    domains = fields.List(fields.String(), required=True)
    sso_required = fields.Boolean(load_default=False)
    jit_accounts = fields.Boolean(load_default=False)
    break_glass_email = fields.String(load_default=None, allow_none=True)


class SsoOut(Schema):
    issuer = fields.String(required=True)
    client_id = fields.String(required=True)
    domains = fields.List(fields.String(), required=True)
    sso_required = fields.Boolean(required=True)
    jit_accounts = fields.Boolean(required=True)
    break_glass_person_id = fields.UUID(allow_none=True)
    client_secret_set = fields.Boolean(required=True)
    redirect_uri = fields.String(
        required=True, metadata={"description": "register it at the provider"}
    )


def _admin() -> Any:
    caller = current_caller()
    if caller.role != "admin":
        raise Forbidden(Text("Only an admin can see or change single sign-on."))
    return caller


def _shown(connection: Any) -> dict[str, Any]:
    return {
        **connection.public(),
        "redirect_uri": redirect_uri(resources().settings.public_url),
    }


@blp.route("/org/sso")
@blp.response(200, SsoOut)
def get_sso() -> Any:
    """The organisation's OpenID Connect provider (admins)."""
    caller = _admin()
    with resources().engine.connect() as conn:
        found = sso_store.connection_for_tenant(conn, caller.tenant_id)
    if found is None:
        raise NotFound(Text("This organisation has no single sign-on."))
    return _shown(found)


@blp.route("/org/sso", methods=["PUT"])
@blp.arguments(SsoIn(), unknown=RAISE)
@blp.response(200, SsoOut)
def put_sso(body: dict[str, Any]) -> Any:
    """Set the organisation's provider: issuer, client, e-mail domains, whether SSO is
    required (then a break-glass admin keeps a password), just-in-time accounts (admins)."""
    caller = _admin()
    found = sso_store.configure(resources().store, caller.actor("api"), body)
    from services.gateway.sso import discovery

    discovery().forget(found.issuer)
    return _shown(found)


@blp.route("/org/sso", methods=["DELETE"])
@blp.response(204)
def delete_sso() -> None:
    """End single sign-on: passwords work again for everyone (admins)."""
    caller = _admin()
    sso_store.remove(resources().store, caller.actor("api"))
