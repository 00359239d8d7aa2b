"""The employee portal (pages arrive with the portal issue); here: the landing page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, render_template
from flask_login import current_user, login_required

bp = Blueprint("portal", __name__)


@bp.get("/")
@login_required
def index() -> Any:
    return render_template("portal/index.html", user=current_user)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
