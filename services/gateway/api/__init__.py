"""REST API v1 (flask-smorest): OpenAPI 3 at /api/v1/openapi.json, docs at /api/v1/docs."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from flask import Blueprint as FlaskBlueprint
from flask import Flask, Response, send_from_directory
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from services.gateway.api import (
    absences,
    admin,
    credentials,
    journal,
    levers,
    operations,
    provisioning,
    reads,
    session,
    sso,
    verification,
    working_hours,
)
from services.gateway.api.schemas import Problem
from services.gateway.auth import current_caller
from services.gateway.context import current_request
from services.gateway.problems import PROBLEM_JSON, http_problem

SWAGGER_ASSETS = Path(swagger_ui_bundle.swagger_ui_path)


class ProblemApi(Api):
    """flask-smorest, with its errors (validation included) as problem+json, and documented so."""

    ERROR_SCHEMA = Problem

    def handle_http_exception(self, error: HTTPException) -> Any:
        return http_problem(error)

    def _register_responses(self) -> None:
        # flask-smorest documents errors as its own JSON shape; ours are RFC 9457 problems.
        for status in HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["content"] = {PROBLEM_JSON: {"schema": self.ERROR_SCHEMA}}
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response(
            self.DEFAULT_ERROR_RESPONSE_NAME,
            {
                "description": "An error, as application/problem+json",
                "content": {PROBLEM_JSON: {"schema": self.ERROR_SCHEMA}},
            },
            lazy=True,
        )


BLUEPRINTS = (
    session.blp,
    credentials.blp,
    journal.blp,
    reads.blp,
    admin.blp,
    operations.blp,
    levers.blp,
    working_hours.blp,
    absences.blp,
    verification.blp,
    sso.blp,
    provisioning.blp,
)
# Endpoints callable without a token (documented with ``security=[]``).
PUBLIC_ENDPOINTS = frozenset({"session.issue_token"})
_AUTHENTICATED = frozenset(blueprint.name for blueprint in BLUEPRINTS)


def _authenticate() -> None:
    """Authenticate API calls before their body is parsed: an anonymous caller gets 401,
    never a 422 that tells them what a valid request looks like."""
    request = current_request()
    if request.method == "OPTIONS" or request.endpoint in PUBLIC_ENDPOINTS:
        return
    if request.blueprint in _AUTHENTICATED:
        current_caller()


assets = FlaskBlueprint("api_docs_assets", __name__)


@assets.get("/api/v1/docs/assets/<path:filename>")
def swagger_asset(filename: str) -> Response:
    return send_from_directory(SWAGGER_ASSETS, filename, max_age=86400)


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="Compound API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/v1/docs/assets/",
        API_SPEC_OPTIONS={
            "info": {"description": "Event-sourced team coaching: see docs/api.md."},
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer"},
                }
            },
            "security": [{"bearer": []}],
        },
    )
    api = ProblemApi(app)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    app.before_request(_authenticate)
    app.register_blueprint(assets)
    from services.gateway.auth import csrf

    for blueprint in BLUEPRINTS:
        # Bearer calls need no CSRF token; session calls are checked in current_caller.
        csrf.exempt(blueprint)
    from services.gateway.auth import unlimited

    for blueprint in (
        journal.blp,
        reads.blp,
        admin.blp,
        operations.blp,
        levers.blp,
        verification.blp,
    ):
        # No limits are set on these routes: skip the limiter's per-request bookkeeping.
        unlimited(blueprint)
