"""``/healthz`` (the process answers), ``/readyz`` (its dependencies answer), and
``/favicon.ico``, which browsers ask for on any page without an icon link (the API's JSON,
a problem page): the gateway's icon (``static/favicon.svg``), not a 404 in every log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import text

from services.gateway.problems import problem
from services.gateway.resources import resources
from shared.i18n import gettext

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/favicon.ico")
def favicon() -> Response:
    folder = current_app.static_folder
    assert folder is not None
    # Read whole (a few hundred bytes), not streamed: no file stays open behind the answer.
    response = Response((Path(folder) / "favicon.svg").read_bytes(), mimetype="image/svg+xml")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


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
    if checks["database"] == "ok":
        try:
            checks["projections"] = {
                s.name: {
                    "status": s.status,
                    "position": s.position,
                    "lag_events": s.lag_events,
                    "lag_seconds": s.lag_seconds,
                    **(
                        {"error": s.last_error, "error_position": s.error_position}
                        if s.last_error
                        else {}
                    ),
                    # A tenant waiting at its poison event stops no one else: ready.
                    **(
                        {"quarantined_tenants": s.quarantined_tenants}
                        if s.quarantined_tenants
                        else {}
                    ),
                }
                for s in resources().projections.status()
            }
        except Exception as err:
            checks["projections"] = f"unavailable: {type(err).__name__}"
    core = {k: v for k, v in checks.items() if k != "projections"}
    if all(v == "ok" for v in core.values()):
        projections = checks.get("projections")
        degraded = isinstance(projections, dict) and any(
            p["status"] != "live" for p in projections.values()
        )
        # A failed projection degrades reads but not writes: stay in rotation, say so.
        return jsonify(status="degraded" if degraded else "ready", checks=checks)
    failing = ", ".join(k for k, v in core.items() if v != "ok")
    detail = gettext("Not ready: %(failing)s.", failing=failing)
    response = problem(503, "Service Unavailable", detail, checks=checks)
    response.headers["Retry-After"] = "5"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
