"""The banner an organisation's admins see on every dashboard while part of a read model
waits at a poison event of theirs (shared/projections/quarantine.py): which read model, since
when, how many events wait. Only their own organisation's rows are read; no error text (the
operator reads it in ``compound projections status``)."""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from services.gateway.dashboards.blueprint import bp
from services.gateway.resources import resources
from shared.i18n import N_
from shared.projections.quarantine import quarantined

READ_MODELS = {
    "capital": N_("career capital"),
    "experiments": N_("experiments"),
    "feedback_loop": N_("micro-feedback"),
    "plan_progress": N_("weekly plans"),
    "levers": N_("team levers"),
}
"""What the banner calls each read model, translated where shown (another projection goes
by its name)."""


@bp.context_processor
def waiting_read_models() -> dict[str, Any]:
    """``waiting``: the caller's organisation's quarantined read models, for admins only.

    Returns:
        ``{"waiting": [Quarantined, ...], "read_models": READ_MODELS}``; ``waiting`` is
        empty for anyone but an admin.
    """
    if not current_user.is_authenticated or current_user.role != "admin":
        return {"waiting": [], "read_models": READ_MODELS}
    with resources().engine.connect() as conn:
        return {"waiting": quarantined(conn, current_user.tenant_id), "read_models": READ_MODELS}
