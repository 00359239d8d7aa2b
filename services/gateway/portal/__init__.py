"""The employee portal: server-rendered pages (Jinja + htmx) over the same commands and read
functions as the API, so validation and authorization have one path.

One module per part of the seed's field guide: ``today`` (log, undo, outcomes), ``plans``
(week plan, experiments), ``asks`` (micro-feedback), ``capital`` (my capital), ``account``
(pulse, password, tokens, my data). Every form posts with its CSRF token (Flask-WTF's
``CSRFProtect`` covers the whole blueprint); bad input re-renders the page with 422 and the
messages next to their fields, and writes nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, request
from flask_login import current_user

bp = Blueprint("portal", __name__)
PUBLIC = frozenset({"portal.erased"})


@bp.before_request
def _login_required() -> Any:
    if not current_user.is_authenticated and request.endpoint not in PUBLIC:
        from services.gateway.auth import login_manager

        return login_manager.unauthorized()
    return None


def init_app(app: Flask) -> None:
    from services.gateway.portal import account, asks, capital, plans, today  # noqa: F401

    app.register_blueprint(bp)
