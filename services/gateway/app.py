"""``create_app``: the one place the gateway is wired together, in one readable order."""

from __future__ import annotations

from typing import Any

from flask import Flask

from services.gateway import (
    api,
    auth,
    calendar,
    dashboards,
    feedback,
    health,
    logs,
    metrics,
    portal,
    problems,
    security,
)
from services.gateway import resources as resources_module
from shared.settings import Settings

MAX_BODY_BYTES = 1024 * 1024


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the gateway.

    Parameters:
        config: Flask config overrides; ``COMPOUND_SETTINGS`` may hold a :class:`Settings`
            (default: read from the environment).
    """
    app = Flask(__name__)
    app.config.from_mapping(COMPOUND_SETTINGS=None, MAX_CONTENT_LENGTH=MAX_BODY_BYTES)
    if config:
        app.config.update(config)
    if app.config["COMPOUND_SETTINGS"] is None:
        app.config["COMPOUND_SETTINGS"] = Settings.from_env()

    logs.init_app(app)
    security.init_app(app)
    resources_module.init_app(app)
    problems.init_app(app)
    auth.init_app(app)
    api.init_app(app)
    feedback.init_app(app)
    portal.init_app(app)
    dashboards.init_app(app)
    calendar.init_app(app)
    health.init_app(app)
    metrics.init_app(app)
    return app
