"""SCIM 2.0 at ``/scim/v2`` (docs/scim.md): an identity provider provisions the organisation
its bearer token belongs to.

Every answer is ``application/scim+json``; every error is a SCIM Error (RFC 7644 section
3.12), including those the rest of the gateway answers as problem+json (a body too large,
malformed JSON, a method not allowed): :func:`_as_scim_error` rewrites them. Requests are
rate-limited per token (:func:`rate_per_minute`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, Response, g, json, request
from pydantic import ValidationError
from scim2_models import SCIMException, UnauthorizedException
from werkzeug.exceptions import HTTPException

from services.gateway.auth import csrf, limiter
from services.gateway.problems import PROBLEM_JSON
from services.gateway.resources import resources
from services.gateway.scim import discovery, groups, users
from services.gateway.scim.responses import error_response
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


bp = Blueprint("scim", __name__, url_prefix="/scim/v2")
users.register(bp)
groups.register(bp)
discovery.register(bp)


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _tenant() -> Any:
    if "scim_tenant" not in g:
        token = _bearer()
        tenant = None
        if token is not None:
            with resources().engine.connect() as conn:
                tenant = tokens.tenant_for(conn, token)
        g.scim_tenant = tenant
    return g.scim_tenant


def _rate_key() -> str:
    token = _bearer()
    if token is not None and _tenant() is not None:
        return "scim-token:" + token_hash(token)[:24]
    return "scim-anonymous:" + (request.remote_addr or "")


@bp.before_request
def _authenticate() -> Response | None:
    if _tenant() is None:
        response = error_response(
            UnauthorizedException(detail="a valid SCIM bearer token is needed")
        )
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
    detail = problem.get("detail") or problem.get("title") or "the request failed"
    scim_type = "invalidSyntax" if response.status_code == 400 else None
    converted = error_response(response.status_code, detail, scim_type)
    for name in ("Retry-After", "WWW-Authenticate", "Allow"):
        if name in response.headers:
            converted.headers[name] = response.headers[name]
    return converted


@bp.errorhandler(SCIMException)
def _scim_error(err: SCIMException) -> Response:
    return error_response(err)


@bp.errorhandler(ValidationError)
def _invalid(err: ValidationError) -> Response:
    errors = err.errors()
    if not errors:
        return error_response(400, str(err), "invalidValue")
    first = errors[0]
    where = ".".join(str(p) for p in first["loc"])
    detail = f"{where}: {first['msg']}" if where else first["msg"]
    scim_type = "invalidSyntax" if first["type"] == "missing" else "invalidValue"
    return error_response(400, detail, scim_type)


@bp.errorhandler(HTTPException)
def _http(err: HTTPException) -> Response:
    response = error_response(err.code or 500, err.description or err.name)
    if err.code == 429:
        response.headers["Retry-After"] = str(getattr(err, "retry_after", 0) or 30)
    return response


limiter.limit(lambda: f"{rate_per_minute()} per minute", key_func=_rate_key)(bp)


def init_app(app: Flask) -> None:
    """Register ``/scim/v2`` (bearer tokens only: no session, no CSRF token).

    Raises:
        SettingsError: ``COMPOUND_SCIM_RATE_LIMIT`` is not a number of at least 1.
    """
    rate_per_minute()  # refuse a bad setting at start, not at the first request
    csrf.exempt(bp)
    app.register_blueprint(bp)
