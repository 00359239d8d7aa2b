"""The dashboards blueprint and its access check: the package's modules register their routes
on it, and :func:`services.gateway.dashboards.init_app` registers it on the app."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort
from flask_login import current_user

bp = Blueprint("dashboards", __name__, url_prefix="/dashboards")


@bp.before_request
def _managers_and_admins() -> Any:
    if not current_user.is_authenticated:
        from services.gateway.auth import login_manager

        return login_manager.unauthorized()
    if not current_user.is_manager:
        abort(403, "the lever dashboards are for managers and admins")
    return None
