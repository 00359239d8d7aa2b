"""Admin endpoints of SCIM provisioning: the organisation's bearer tokens (docs/scim.md)."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from services.gateway.auth import current_caller
from services.gateway.resources import resources
from shared.domain.errors import Forbidden, Text
from shared.scim import tokens

blp = Blueprint(
    "provisioning", __name__, url_prefix="/api/v1", description="SCIM provisioning (admin)"
)


class ScimTokenOut(Schema):
    id = fields.UUID(required=True)
    created_at = fields.DateTime(required=True)
    revoked_at = fields.DateTime(allow_none=True)


class IssuedScimTokenOut(Schema):
    id = fields.UUID(required=True)
    token = fields.String(
        required=True, metadata={"description": "Shown once: only its SHA-256 is kept."}
    )


def _admin_actor() -> Any:
    caller = current_caller()
    if caller.role != "admin":
        raise Forbidden(Text("Only an admin can do this."))
    return caller.actor("api")


@blp.route("/org/scim-tokens", methods=["GET"])
@blp.response(200, ScimTokenOut(many=True))
def list_scim_tokens() -> Any:
    """The organisation's SCIM tokens, oldest first (admin; never the tokens themselves)."""
    return tokens.listed(resources().store, _admin_actor().tenant_id)


@blp.route("/org/scim-tokens", methods=["POST"])
@blp.response(201, IssuedScimTokenOut)
def issue_scim_token() -> Any:
    """Issue a bearer token for the organisation's ``/scim/v2`` (admin)."""
    token_id, token = tokens.issue(resources().store, _admin_actor())
    return {"id": token_id, "token": token}


@blp.route("/org/scim-tokens/<uuid:token_id>", methods=["DELETE"])
@blp.response(204)
def revoke_scim_token(token_id: uuid.UUID) -> Any:
    """Revoke a SCIM token of the organisation (admin)."""
    tokens.revoke(resources().store, _admin_actor(), token_id)
    return ""
