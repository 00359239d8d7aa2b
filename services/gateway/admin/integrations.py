"""Integrations: the calendar providers this deployment offers and how many of the
organisation's people connected each (counts only, never who), the setup steps for Google
and Microsoft, and Slack. SSO and SCIM add their own sections when they arrive."""

from __future__ import annotations

from typing import Any

from flask import render_template
from sqlalchemy import text

from services.gateway.admin.blueprint import bp
from services.gateway.portal.forms import me
from services.gateway.resources import resources
from shared.calendar.providers import configured_providers


@bp.get("/integrations")
def integrations() -> Any:
    """Calendar providers and Slack, with counts of connected people."""
    settings = resources().settings
    tenant_id = me().tenant_id
    with resources().engine.connect() as conn:
        calendars = {
            r.provider: (r.active, r.reconnect)
            for r in conn.execute(
                text(
                    "SELECT provider, count(*) FILTER (WHERE status = 'active') AS active, "
                    "count(*) FILTER (WHERE status = 'needs_reconnect') AS reconnect "
                    "FROM calendar_connections WHERE tenant_id = :t GROUP BY provider"
                ),
                {"t": tenant_id},
            )
        }
        slack = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM slack_installations WHERE tenant_id = :t) AS "
                "workspaces, (SELECT count(*) FROM slack_links WHERE tenant_id = :t) AS people"
            ),
            {"t": tenant_id},
        ).one()
    providers = configured_providers(settings.calendar)
    offered = [(name, p.title, *calendars.get(name, (0, 0))) for name, p in providers.items()]
    return render_template(
        "admin/integrations.html",
        offered=offered,
        slack=slack,
        slack_configured=settings.slack.enabled,
        public_url=settings.public_url,
    )
