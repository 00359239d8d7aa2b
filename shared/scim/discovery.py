"""What the server tells an identity provider about itself (RFC 7644 section 4):
ServiceProviderConfig, ResourceTypes and Schemas.

The schemas are scim2-models' User and Group cut down to what Compound keeps, so a client
that reads them (scim2-tester does) sends and expects only those attributes.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from scim2_models import Context, Group, ResourceType, ServiceProviderConfig, User

from shared.scim.reads import GROUP_SCHEMA, USER_SCHEMA

MAX_RESULTS = 1000
"""The most resources one page (or one filter) answers."""

KEPT = {
    USER_SCHEMA: {"userName": None, "displayName": None, "active": None, "emails": {"value"}},
    GROUP_SCHEMA: {"displayName": None, "members": {"value", "$ref", "type"}},
}
"""The attributes Compound keeps of each schema (and of a complex one, its sub-attributes)."""

ALWAYS_THERE = {"displayName", "active"}
"""Attributes every User has (published as required: a request may leave them out, and
Compound then derives them, but they cannot be removed)."""

_ANSWER = Context.RESOURCE_QUERY_RESPONSE


def service_provider_config(base_url: str) -> dict[str, Any]:
    """The ServiceProviderConfig resource."""
    config = ServiceProviderConfig.model_validate(
        {
            "documentationUri": "https://compound.invalid/docs/scim",
            "patch": {"supported": True},
            "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": MAX_RESULTS},
            "changePassword": {"supported": False},
            "sort": {"supported": False},
            "etag": {"supported": True},
            "pagination": {
                "cursor": False,
                "index": True,
                "defaultPageSize": 100,
                "maxPageSize": MAX_RESULTS,
            },
            "authenticationSchemes": [
                {
                    "type": "oauthbearertoken",
                    "name": "OAuth Bearer Token",
                    "description": "A token of the organisation (`compound scim token`).",
                    "primary": True,
                }
            ],
        }
    )
    answer = config.model_dump(scim_ctx=_ANSWER)
    answer["meta"] = {
        "resourceType": "ServiceProviderConfig",
        "location": f"{base_url}/ServiceProviderConfig",
    }
    return answer


def resource_types(base_url: str) -> list[dict[str, Any]]:
    """The ResourceType resources: User and Group."""
    found = []
    for name, endpoint, schema in (
        ("User", "/Users", USER_SCHEMA),
        ("Group", "/Groups", GROUP_SCHEMA),
    ):
        resource = ResourceType.model_validate(
            {
                "id": name,
                "name": name,
                "endpoint": endpoint,
                "schema": schema,
                "description": f"{name}s of the organisation",
            }
        ).model_dump(scim_ctx=_ANSWER)
        resource["meta"] = {
            "resourceType": "ResourceType",
            "location": f"{base_url}/ResourceTypes/{name}",
        }
        found.append(resource)
    return found


@cache
def _schemas() -> tuple[dict[str, Any], ...]:
    found = []
    for model in (User, Group):
        schema = model.to_schema().model_dump(scim_ctx=_ANSWER)
        kept = KEPT[schema["id"]]
        attributes = []
        for attribute in schema["attributes"]:
            if attribute["name"] not in kept:
                continue
            subs = kept[attribute["name"]]
            if subs is not None:
                attribute = {
                    **attribute,
                    "subAttributes": [s for s in attribute["subAttributes"] if s["name"] in subs],
                }
            if attribute["name"] in ALWAYS_THERE and schema["id"] == USER_SCHEMA:
                attribute = {**attribute, "required": True}
            attributes.append(attribute)
        found.append({**schema, "attributes": attributes})
    return tuple(found)


def schemas(base_url: str) -> list[dict[str, Any]]:
    """The Schema resources of User and Group, cut down to what Compound keeps."""
    return [
        {**s, "meta": {"resourceType": "Schema", "location": f"{base_url}/Schemas/{s['id']}"}}
        for s in _schemas()
    ]
