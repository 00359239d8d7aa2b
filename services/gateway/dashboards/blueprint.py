"""The dashboards blueprint and its access check: the package's modules register their routes
on it, and :func:`services.gateway.dashboards.init_app` registers it on the app."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort
from flask_login import current_user

from shared.i18n import gettext

bp = Blueprint("dashboards", __name__, url_prefix="/dashboards")


@bp.before_request
def _managers_and_admins() -> Any:
    if not current_user.is_authenticated:
        from services.gateway.auth import login_manager

        return login_manager.unauthorized()
    if not current_user.is_manager:
        abort(403, gettext("The lever dashboards are for managers and admins."))
    return None


@bp.app_context_processor
def _privacy_copy() -> dict[str, Any]:
    """``organisation_k()`` in every template: the k of the signed-in person's organisation
    (the deployment's ``COMPOUND_K`` for a visitor), so all privacy copy (pulse, calendar,
    dashboards) states the k actually in force (docs/privacy.md)."""

    def organisation_k() -> int:
        from services.gateway.organisation import request_organisation_settings
        from services.gateway.resources import resources
        from shared.domain.privacy import effective_k

        if not current_user.is_authenticated:
            return effective_k(resources().settings.k_anonymity)
        return request_organisation_settings(current_user.tenant_id).k

    return {"organisation_k": organisation_k}
