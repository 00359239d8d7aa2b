"""Manager lever dashboards: a team's levers week by week, each lever in detail, sub-teams side
by side, the organisation for admins, and a CSV of each page.

Pages read the lever read model only through :func:`shared.projections.levers.read_team_levers`
and :func:`~shared.projections.levers.read_org_levers`, which return cells already suppressed
(k-anonymity, complementary suppression): the same privacy path as the API. Who may see a
team is decided by the API's :func:`services.gateway.api.levers.authorize_team`. Employees
get 403 on every URL here; nothing here links to a person.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort
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


def init_app(app: Flask) -> None:
    from services.gateway.dashboards import pages  # noqa: F401

    app.register_blueprint(bp)
