"""The portal blueprint and its access check: the package's modules register their routes
on it, and :func:`services.gateway.portal.init_app` registers it on the app."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from flask_login import current_user

bp = Blueprint("portal", __name__)
PUBLIC = frozenset({"portal.erased"})


@bp.before_request
def _login_required() -> Any:
    if not current_user.is_authenticated and request.endpoint not in PUBLIC:
        from services.gateway.auth import login_manager

        return login_manager.unauthorized()
    return None
