"""Manager lever dashboards (pages arrive with the dashboards issue); managers and admins only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, render_template
from flask_login import current_user, login_required

bp = Blueprint("dashboards", __name__, url_prefix="/dashboards")


@bp.get("/")
@login_required
def index() -> Any:
    if not current_user.is_manager:
        abort(403, "the lever dashboards are for managers and admins")
    return render_template("dashboards/index.html", user=current_user)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
