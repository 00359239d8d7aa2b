"""SCIM Errors (RFC 7644 section 3.12) as ``application/scim+json``: light enough for the
blueprint's hooks, which run before scim2-models is imported."""

from __future__ import annotations

from typing import Any

from flask import Response, json

from services.gateway.problems import as_sentence

SCIM_JSON = "application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


def error_response(
    status_or_error: Any, detail: str = "", scim_type: str | None = None
) -> Response:
    """A SCIM Error (``status`` is a string, as RFC 7644 section 3.12 shows it); its
    ``detail`` reads as a sentence (``scimType`` is the code clients match on)."""
    if not isinstance(status_or_error, int):  # a scim2_models.SCIMException
        status, detail = status_or_error.status, status_or_error.detail
        scim_type = status_or_error.scim_type or None
    else:
        status = status_or_error
    body: dict[str, Any] = {
        "schemas": [ERROR_SCHEMA],
        "status": str(status),
        "detail": as_sentence(detail),
    }
    if scim_type:
        body["scimType"] = scim_type
    return Response(json.dumps(body), status=status, mimetype=SCIM_JSON)
