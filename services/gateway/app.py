"""``create_app``: the one place the gateway is wired together."""

from __future__ import annotations

from typing import Any

from flask import Flask

from services.gateway import health, problems, resources
from shared.settings import Settings


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the gateway.

    Parameters:
        config: Flask config overrides; ``COMPOUND_SETTINGS`` may hold a :class:`Settings`
            (default: read from the environment).
    """
    app = Flask(__name__)
    app.config.from_mapping(COMPOUND_SETTINGS=None, MAX_CONTENT_LENGTH=1024 * 1024)
    if config:
        app.config.update(config)
    if app.config["COMPOUND_SETTINGS"] is None:
        app.config["COMPOUND_SETTINGS"] = Settings.from_env()

    resources.init_app(app)
    problems.init_app(app)
    health.init_app(app)
    return app
