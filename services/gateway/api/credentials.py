"""My credentials: personal access tokens (scoped, expiring) and portal sessions.

* A token never mints a token: ``POST /me/tokens`` takes the portal's session cookie only
  (403 with a bearer token, even a login token). Minting needs the person, not a script.
* Revoking and listing take any valid credential: a leaked token can at worst end itself.
* ``POST /me/sessions:end-all`` ("log out everywhere") appends ``SignedOutEverywhere``: every
  session and token made before it ends, the caller's own included.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from services.gateway import web_sessions
from services.gateway.api.schemas import NewPersonalToken, PersonalTokenOut, SessionOut, TokenOut
from services.gateway.auth import current_caller
from services.gateway.resources import resources
from shared.commands.credentials import personal_tokens
from shared.domain.errors import Forbidden, NotFound, Text

blp = Blueprint("credentials", __name__, url_prefix="/api/v1", description="My tokens and sessions")


@blp.route("/me/tokens")
class PersonalTokens(MethodView):
    @blp.response(200, PersonalTokenOut(many=True))
    def get(self) -> Any:
        """My personal access tokens that still work (never the tokens themselves)."""
        caller = current_caller()
        with resources().engine.connect() as conn:
            return personal_tokens(conn, caller.person_id)

    @blp.arguments(NewPersonalToken())
    @blp.response(201, TokenOut)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a personal access token: shown once, stored only as a hash. Only from a
        portal session: a token never mints another token (403)."""
        caller = current_caller()
        if caller.credential != "cookie":
            raise Forbidden(
                Text("A token cannot create tokens: create one on the account page."),
                kind="token-from-token",
            )
        token_id, token = resources().organization.create_token(
            caller.actor(),
            body["name"],
            scopes=body["scopes"],
            days=body["expires_in_days"],
        )
        with resources().engine.connect() as conn:
            made = next(t for t in personal_tokens(conn, caller.person_id) if t.id == token_id)
        return {
            "access_token": token,
            "token_type": "bearer",
            "expires_at": made.expires_at,
            "token_id": token_id,
            "scopes": made.scopes,
        }


@blp.route("/me/tokens/<uuid:token_id>", methods=["DELETE"])
@blp.response(204)
def revoke_token(token_id: uuid.UUID) -> Response:
    """Revoke one of my tokens."""
    resources().organization.revoke_token(current_caller().actor(), token_id)
    return Response(status=204)


@blp.route("/me/sessions")
@blp.response(200, SessionOut(many=True))
def list_sessions() -> Any:
    """My portal sessions that still work, the most recently seen first."""
    caller = current_caller()
    return [
        {**s._asdict(), "current": s.id == caller.session_id}
        for s in web_sessions.listed(caller.person_id)
    ]


@blp.route("/me/sessions/<uuid:session_id>", methods=["DELETE"])
@blp.response(204)
def end_session(session_id: uuid.UUID) -> Response:
    """End one of my sessions (a browser elsewhere is logged out at its next request)."""
    if not web_sessions.revoke(current_caller().person_id, session_id):
        raise NotFound(Text("You have no session %(id)s.", id=str(session_id)))
    return Response(status=204)


@blp.route("/me/sessions:end-all", methods=["POST"])
@blp.response(204)
def end_all() -> Response:
    """Log out everywhere: every session and token of mine made before now ends, the one
    of this request included."""
    resources().organization.sign_out_everywhere(current_caller().actor())
    return Response(status=204)
