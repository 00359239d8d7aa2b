"""Where identity providers are known to deviate from RFC 7644, their requests are rewritten
into the standard form before scim2-models reads them (and strictness applies to the rest).

* Microsoft Entra ID removes group members with ``{"op": "Remove", "path": "members",
  "value": [{"value": ID}, ...]}``: a removal carries no value in the RFC. It becomes one
  ``members[value eq "ID"]`` removal per member.
* Okta renames a group with ``{"op": "replace", "value": {"id": ID, "displayName": ...}}``:
  ``id`` is read-only. It is dropped when it is the resource's own id (another id is still
  refused).
* Entra's extra schema URI on a group it creates is left out (``ENTRA_GROUP_SCHEMA``).
* Capitalised operations (``Replace``, ``Add``) and ``active`` as the string ``"False"``
  are read by scim2-models itself.
"""

from __future__ import annotations

import json
from typing import Any

ENTRA_GROUP_SCHEMA = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2007"
"""The extra schema URI Microsoft Entra ID puts in a Group it creates (no attribute of it)."""


def _is_removal_with_values(operation: Any) -> bool:
    return (
        isinstance(operation, dict)
        and str(operation.get("op", "")).lower() == "remove"
        and isinstance(operation.get("path"), str)
        and "[" not in operation["path"]
        and isinstance(operation.get("value"), list)
    )


def _removals(operation: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for item in operation["value"]:
        value = item.get("value") if isinstance(item, dict) else item
        found.append(
            {"op": "remove", "path": f"{operation['path']}[value eq {json.dumps(str(value))}]"}
        )
    return found


def _without_own_id(operation: Any, resource_id: str) -> Any:
    if not isinstance(operation, dict) or "path" in operation:
        return operation
    value = operation.get("value")
    if isinstance(value, dict) and str(value.get("id", "")).lower() == resource_id.lower():
        return {**operation, "value": {k: v for k, v in value.items() if k != "id"}}
    return operation


def patch_body(body: dict[str, Any], resource_id: str) -> dict[str, Any]:
    """A PATCH request's body in the standard form (see the module's docstring).

    Parameters:
        body: the request's JSON object.
        resource_id: the id of the patched resource, from the URL.

    Returns:
        The body to read; ``body`` itself when nothing needed rewriting.
    """
    operations = body.get("Operations")
    if not isinstance(operations, list):
        return body
    rewritten: list[Any] = []
    for operation in operations:
        if _is_removal_with_values(operation):
            rewritten.extend(_removals(operation))
        else:
            rewritten.append(_without_own_id(operation, resource_id))
    return {**body, "Operations": rewritten}


def group_body(body: dict[str, Any]) -> dict[str, Any]:
    """A Group's body without Entra's extra schema URI."""
    schemas = body.get("schemas")
    if isinstance(schemas, list) and ENTRA_GROUP_SCHEMA in schemas:
        return {**body, "schemas": [s for s in schemas if s != ENTRA_GROUP_SCHEMA]}
    return body
