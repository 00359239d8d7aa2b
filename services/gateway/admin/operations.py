"""Operations, for the operators' admins only (``COMPOUND_OPERATOR_ORGS``; every other admin
gets 403, as in the API): each projection's position, lag, errors, quarantined tenants and
held events, a rebuild in progress and how far it is, and a button to rebuild one in a
worker (the current tables serve until the new ones are done)."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for

from services.gateway.admin.blueprint import bp
from services.gateway.portal.forms import me
from services.gateway.resources import resources
from shared.i18n import gettext
from shared.wakeups import send_rebuild


def _operators_only() -> None:
    if str(me().tenant_id) not in resources().settings.operator_orgs:
        abort(
            403,
            gettext(
                "Projections serve every organisation of this deployment: only admins of its "
                "operator organisations (%(setting)s) see or rebuild them.",
                setting="COMPOUND_OPERATOR_ORGS",
            ),
        )


@bp.get("/operations")
def operations() -> Any:
    """Each projection's status and lag; the rebuild buttons."""
    _operators_only()
    return render_template(
        "admin/operations.html",
        projections=resources().projections.status(),
        sent=request.args.get("rebuild"),
    )


@bp.post("/operations/<name>/rebuild")
def rebuild(name: str) -> Any:
    """Rebuild one projection in a worker."""
    _operators_only()
    if name not in resources().projections.projections:
        abort(404, gettext("No projection %(name)s.", name=repr(name)))
    send_rebuild(name, resources().broker)
    return redirect(url_for("console.operations", rebuild=name))
