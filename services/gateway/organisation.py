"""The signed-in person's organisation settings, read once a request: ``/pulse`` needs the
cadence and its privacy copy the k (``organisation_k()`` in every template)."""

from __future__ import annotations

from typing import Any

from services.gateway.context import request_globals
from shared.commands.settings import OrganisationSettings, organisation_settings


def request_organisation_settings(tenant_id: Any) -> OrganisationSettings:
    """:func:`shared.commands.settings.organisation_settings` of ``tenant_id``, read at the
    first call of the request and kept for the rest of it (per organisation)."""
    from services.gateway.resources import resources  # the app's engine

    context = request_globals()
    kept = context.get("compound_organisation_settings")
    if kept is not None and kept[0] == tenant_id:
        found: OrganisationSettings = kept[1]
        return found
    with resources().engine.connect() as conn:
        found = organisation_settings(conn, tenant_id, resources().settings)
    context.compound_organisation_settings = (tenant_id, found)
    return found
