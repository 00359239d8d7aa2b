"""``/healthz`` (the process answers) and ``/readyz`` (its dependencies answer)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify
from sqlalchemy import text

from services.gateway.problems import problem
from services.gateway.resources import resources

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Response:
    checks: dict[str, Any] = {}
    try:
        with resources().engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as err:  # any failure means "not ready", and says why
        checks["database"] = f"unavailable: {type(err).__name__}"
    try:
        resources().redis.ping()
        checks["redis"] = "ok"
    except Exception as err:
        checks["redis"] = f"unavailable: {type(err).__name__}"
    if all(v == "ok" for v in checks.values()):
        return jsonify(status="ready", checks=checks)
    failing = ", ".join(k for k, v in checks.items() if v != "ok")
    response = problem(503, "Service Unavailable", f"not ready: {failing}", checks=checks)
    response.headers["Retry-After"] = "5"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
