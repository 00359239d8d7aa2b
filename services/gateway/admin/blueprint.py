"""The admin console's blueprint and its access check: admins only (employees and managers
get 403); every id in a URL is looked up in the admin's own organisation (another's: 404)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, url_for
from flask_login import current_user

from shared.i18n import gettext

bp = Blueprint("console", __name__, url_prefix="/admin")


@bp.before_request
def _admins_only() -> Any:
    if not current_user.is_authenticated:
        from services.gateway.auth import login_manager

        return login_manager.unauthorized()
    if current_user.role != "admin":
        abort(403, gettext("The admin console is for the organisation's admins."))
    return None


@bp.get("/")
def home() -> Any:
    """``/admin`` (and ``/admin/``): the console opens on its people page."""
    return redirect(url_for("console.people"))


@bp.context_processor
def _operator() -> dict[str, Any]:
    """``is_operator``: the admin's organisation is an operator's (the Operations page)."""
    from services.gateway.resources import resources

    operators = resources().settings.operator_orgs
    return {"is_operator": str(current_user.tenant_id) in operators}
