"""SCIM 2.0 at ``/scim/v2`` (docs/scim.md): an identity provider provisions the organisation
its bearer token belongs to.

Every answer is ``application/scim+json``; every error is a SCIM Error (RFC 7644 section
3.12), including those the rest of the gateway answers as problem+json (a body too large,
malformed JSON, a method not allowed): :func:`_as_scim_error` rewrites them. Requests are
rate-limited per token (:func:`rate_per_minute`, counted by :mod:`services.gateway.scim.rate`).

The views and scim2-models load at the first SCIM request (:data:`ROUTES`,
:mod:`services.gateway.scim.dispatch`): a gateway process no identity provider calls does
not pay for them at start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, Response, g, json, request
from werkzeug.exceptions import HTTPException

from services.gateway.auth import csrf, unlimited
from services.gateway.problems import PROBLEM_JSON
from services.gateway.resources import resources
from services.gateway.scim import rate
from services.gateway.scim.errors import error_response
from shared.domain.errors import Text
from shared.scim import tokens
from shared.scim.tokens import token_hash
from shared.settings import SettingsError

DEFAULT_PER_MINUTE = 1200
"""Requests per token and minute by default: a provider's push of a few hundred in half a
minute passes; beyond, 429 with ``Retry-After`` (identity providers wait and retry)."""


def rate_per_minute(env: Mapping[str, str] | None = None) -> int:
    """``COMPOUND_SCIM_RATE_LIMIT``: requests per SCIM token and minute (default 1200).

    Raises:
        SettingsError: the value is not a whole number of at least 1.
    """
    raw = (os.environ if env is None else env).get("COMPOUND_SCIM_RATE_LIMIT") or ""
    if not raw:
        return DEFAULT_PER_MINUTE
    if not raw.strip().isdigit() or int(raw) < 1:
        raise SettingsError(f"COMPOUND_SCIM_RATE_LIMIT must be a number of at least 1, got {raw!r}")
    return int(raw)


_ANY = ["GET", "POST", "PUT", "PATCH", "DELETE"]
ROUTES: list[tuple[str, list[str], str, str]] = [
    # rule, methods, module of services.gateway.scim, view
    ("/Users", ["GET"], "users", "list_users"),
    ("/Users", ["POST"], "users", "create_user"),
    ("/Users/<user_id>", ["GET"], "users", "get_user"),
    ("/Users/<user_id>", ["PUT"], "users", "replace_user"),
    ("/Users/<user_id>", ["PATCH"], "users", "patch_user"),
    ("/Users/<user_id>", ["DELETE"], "users", "delete_user"),
    ("/Groups", ["GET"], "groups", "list_groups"),
    ("/Groups", ["POST"], "groups", "create_group"),
    ("/Groups/<group_id>", ["GET"], "groups", "get_group"),
    ("/Groups/<group_id>", ["PUT"], "groups", "replace_group"),
    ("/Groups/<group_id>", ["PATCH"], "groups", "patch_group"),
    ("/Groups/<group_id>", ["DELETE"], "groups", "delete_group"),
    ("/ServiceProviderConfig", ["GET"], "discovery", "service_provider_config"),
    ("/ResourceTypes", ["GET"], "discovery", "resource_types"),
    ("/ResourceTypes/<name>", ["GET"], "discovery", "resource_type"),
    ("/Schemas", ["GET"], "discovery", "schemas"),
    ("/Schemas/<schema_id>", ["GET"], "discovery", "schema"),
    ("/.search", ["POST"], "discovery", "search_everything"),
    ("/<path:path>", _ANY, "discovery", "unknown"),
]
"""Every SCIM route; its view is loaded at its first request."""

bp = Blueprint("scim", __name__, url_prefix="/scim/v2")


def _lazy(module: str, name: str) -> Any:
    def view(**kwargs: Any) -> Response:
        from services.gateway.scim import dispatch

        return dispatch.call(module, name, kwargs)

    view.__name__ = name
    return view


for _rule, _methods, _module, _name in ROUTES:
    bp.add_url_rule(_rule, endpoint=_name, view_func=_lazy(_module, _name), methods=_methods)


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _tenant() -> Any:
    if "scim_tenant" not in g:
        token = _bearer()
        tenant = None
        if token is not None:
            tenant = tokens.tenant_of(resources().engine, token)
        g.scim_tenant = tenant
    return g.scim_tenant


def _rate_key() -> str:
    token = _bearer()
    if token is not None and _tenant() is not None:
        return "token:" + token_hash(token)[:24]
    return "anonymous:" + (request.remote_addr or "")


@bp.before_request
def _authenticate() -> Response | None:
    wait = rate.retry_after(_rate_key(), rate_per_minute())
    if wait is not None:
        response = error_response(429, Text("Too many requests for this token: try again later."))
        response.headers["Retry-After"] = str(wait)
        return response
    if _tenant() is None:
        response = error_response(401, Text("A valid SCIM bearer token is needed."))
        response.headers["WWW-Authenticate"] = 'Bearer realm="scim"'
        return response
    return None


@bp.after_request
def _as_scim_error(response: Response) -> Response:
    if response.mimetype != PROBLEM_JSON:
        return response
    try:
        problem = json.loads(response.get_data())
    except ValueError:
        problem = {}
    detail = problem.get("detail") or problem.get("title") or Text("The request failed.")
    scim_type = "invalidSyntax" if response.status_code == 400 else None
    converted = error_response(response.status_code, detail, scim_type)
    for name in ("Retry-After", "WWW-Authenticate", "Allow"):
        if name in response.headers:
            converted.headers[name] = response.headers[name]
    return converted


@bp.errorhandler(HTTPException)
def _http(err: HTTPException) -> Response:
    response = error_response(err.code or 500, err.description or err.name)
    if err.code == 429:
        response.headers["Retry-After"] = str(getattr(err, "retry_after", 0) or 30)
    return response


unlimited(bp)  # Flask-Limiter's hooks skipped: the limit is :mod:`services.gateway.scim.rate`'s


def init_app(app: Flask) -> None:
    """Register ``/scim/v2`` (bearer tokens only: no session, no CSRF token).

    Raises:
        SettingsError: ``COMPOUND_SCIM_RATE_LIMIT`` is not a number of at least 1.
    """
    rate_per_minute()  # refuse a bad setting at start, not at the first request
    csrf.exempt(bp)
    app.register_blueprint(bp)
