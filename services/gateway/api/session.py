"""The caller: ``POST /auth/token`` (a login token), ``GET /me``, ``GET /me/export``.

Their tokens and sessions: services/gateway/api/credentials.py."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import select

from services.gateway.api.schemas import Credentials, MeOut, TokenOut
from services.gateway.auth import (
    authenticate,
    backoff_problem,
    current_caller,
    limiter,
    login_backoff,
)
from services.gateway.resources import resources
from services.gateway.second_factor import api_second_factor
from shared.commands import activity, export_document, personal_data
from shared.directory import AccessToken, Team, TeamMember

blp = Blueprint("session", __name__, url_prefix="/api/v1", description="Tokens and the caller")


@blp.route("/auth/token", methods=["POST"])
@limiter.limit("30 per minute")
@blp.arguments(Credentials())
@blp.response(200, TokenOut)
@blp.doc(security=[])
def issue_token(credentials: dict[str, Any]) -> Any:
    """Exchange e-mail and password (and `totp`, with a second factor) for a bearer token
    (valid 12 hours).

    A session credential: every scope of my role, ended by logout everywhere or a password
    change like a portal session; it cannot create personal tokens."""
    wait = login_backoff(credentials["email"])
    if wait:
        return backoff_problem(wait)
    user = authenticate(credentials["email"], credentials["password"])
    refused = api_second_factor(user, credentials["totp"])
    if refused is not None:
        return refused
    token_id, token = resources().organization.create_token(
        user.actor("api"), "api login", kind="session"
    )
    with resources().engine.connect() as conn:
        expires = conn.execute(
            select(AccessToken.expires_at).where(AccessToken.id == token_id)
        ).scalar_one()
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_at": expires,
        "token_id": token_id,
        "scopes": None,
    }


@blp.route("/me")
@blp.response(200, MeOut)
def me() -> Any:
    """Who am I: person, roles and teams."""
    caller = current_caller()
    with resources().engine.connect() as conn:
        teams = conn.execute(
            select(Team.id, Team.name, TeamMember.is_manager)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.person_id == caller.person_id, Team.tenant_id == caller.tenant_id)
            .order_by(Team.name)
        ).all()
    roles = ["employee"] if caller.role == "employee" else ["employee", caller.role]
    if caller.managed_teams and "manager" not in roles:
        roles.append("manager")
    return {
        "person_id": caller.person_id,
        "email": caller.email,
        "display_name": caller.display_name,
        "roles": roles,
        "teams": [
            {"id": t.id, "name": t.name, "role": "manager" if t.is_manager else "member"}
            for t in teams
        ],
    }


class ExportArgs(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


@blp.route("/me/export")
@blp.arguments(ExportArgs(), location="query", unknown=RAISE)
@blp.response(
    200,
    description="Everything about me, decrypted and grouped by kind: JSON "
    "`{format, person_id, profile, actions, outcomes, ...}` (docs/portal.md#my-data) or CSV.",
    content_type="application/json",
)
@blp.alt_response(
    200, description="CSV, one row per item, its kind in `section`", content_type="text/csv"
)
def export_me(args: dict[str, Any]) -> Response:
    """Export everything the log holds about me (journal, profile, calendar meetings per
    week), as JSON or CSV. Anonymous pulse responses are not linked to me, so they are not
    in it."""
    caller = current_caller()
    document = export_document(resources().store, caller.actor("api"))
    if args["format"] == "csv":
        body, mimetype = personal_data.as_csv(document), "text/csv"
    else:
        body, mimetype = personal_data.as_json(document), "application/json"
    activity.exported(resources().store, caller.actor("api"), "personal_data", args["format"])
    filename = f"compound-export-{caller.person_id}.{args['format']}"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
