"""SCIM answers: resources, list responses and errors as ``application/scim+json``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Response, g, json, request
from scim2_models import InvalidSyntaxException, InvalidValueException

from services.gateway.resources import resources
from services.gateway.scim.errors import SCIM_JSON
from shared.commands.base import Actor, system_actor
from shared.domain.errors import Text
from shared.scim.discovery import MAX_RESULTS

LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
_ALWAYS = {"id", "schemas", "meta"}


def scim_json(body: Any, status: int = 200, etag: str | None = None) -> Response:
    """A SCIM answer (with its ``ETag``, ``Location`` for a creation)."""
    response = Response(json.dumps(body), status=status, mimetype=SCIM_JSON)
    if etag:
        response.headers["ETag"] = etag
    if status == 201 and isinstance(body, dict) and "meta" in body:
        response.headers["Location"] = body["meta"]["location"]
    return response


def base_url() -> str:
    """The ``/scim/v2`` URL as the caller reached it."""
    return request.host_url.rstrip("/") + "/scim/v2"


def actor() -> Actor:
    """The organisation of the request's token, acting as the system (source ``scim``)."""
    return system_actor(g.scim_tenant, source="scim")


def store() -> Any:
    """The event store of this process."""
    return resources().store


def engine() -> Any:
    """The database engine of this process."""
    return resources().engine


def resource_id(value: str) -> uuid.UUID | None:
    """A resource id from the URL (None: not one this server gives)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def body() -> dict[str, Any]:
    """The request's JSON object.

    Raises:
        SCIMException: ``invalidSyntax`` when the body is not a JSON object.
    """
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise InvalidSyntaxException(detail=Text("The body must be a JSON object."))
    return data


def _names(param: str) -> set[str]:
    found = set()
    for item in (request.args.get(param) or "").split(","):
        name = item.strip().rsplit(":", 1)[-1].split(".", 1)[0].lower()
        if name:
            found.add(name)
    return found


def selected(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource with only the request's ``attributes`` / without its
    ``excludedAttributes`` (top-level attributes; ``id``, ``schemas``, ``meta`` stay)."""
    wanted, excluded = _names("attributes"), _names("excludedAttributes")
    if not wanted and not excluded:
        return resource
    return {
        k: v
        for k, v in resource.items()
        if k in _ALWAYS or ((not wanted or k.lower() in wanted) and k.lower() not in excluded)
    }


def wants_attribute(name: str) -> bool:
    """Whether the request's attribute selection leaves ``name`` in the answer."""
    wanted, excluded = _names("attributes"), _names("excludedAttributes")
    return name.lower() not in excluded and (not wanted or name.lower() in wanted)


def page() -> tuple[int, int]:
    """The request's ``startIndex`` (1-based, at least 1) and ``count`` (0 to the maximum).

    Raises:
        SCIMException: ``invalidValue`` for a value that is not a whole number.
    """
    try:
        start = int(request.args.get("startIndex", 1))
        count = int(request.args.get("count", 100))
    except ValueError as err:
        raise InvalidValueException(
            detail=Text("The startIndex and count must be whole numbers.")
        ) from err
    return max(start, 1), min(max(count, 0), MAX_RESULTS)


def list_response(
    total: int, start: int, items: list[Any], render: Callable[[Any], dict[str, Any]]
) -> Response:
    """A ListResponse of one page."""
    resources_ = [selected(render(item)) for item in items]
    return scim_json(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(resources_),
            "Resources": resources_,
        }
    )


def answer(resource: dict[str, Any], status: int = 200) -> Response:
    """One resource (304 when the request's ``If-None-Match`` names its version)."""
    tag = resource["meta"]["version"]
    if request.method == "GET" and tag in {
        t.strip() for t in (request.headers.get("If-None-Match") or "").split(",")
    }:
        return Response(status=304, headers={"ETag": tag})
    return scim_json(selected(resource), status, etag=tag)
