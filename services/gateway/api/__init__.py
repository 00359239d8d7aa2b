"""REST API v1 (flask-smorest): OpenAPI 3 at /api/v1/openapi.json, docs at /api/v1/docs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import swagger_ui_bundle
from flask import Blueprint as FlaskBlueprint
from flask import Flask, Response, send_from_directory
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from services.gateway.api import admin, journal, session
from services.gateway.problems import http_problem

SWAGGER_ASSETS = Path(swagger_ui_bundle.swagger_ui_path)


class ProblemApi(Api):
    """flask-smorest, with its errors (validation included) as problem+json."""

    def handle_http_exception(self, error: HTTPException) -> Any:
        return http_problem(error)


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
    for blueprint in (session.blp, journal.blp, admin.blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(assets)
    from services.gateway.auth import csrf

    for blueprint in (session.blp, journal.blp, admin.blp):
        # Bearer calls need no CSRF token; session calls are checked in current_caller.
        csrf.exempt(blueprint)
