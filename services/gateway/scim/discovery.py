"""``/scim/v2`` discovery: ServiceProviderConfig, ResourceTypes, Schemas."""

from __future__ import annotations

from flask import Response
from scim2_models import NotFoundException, NotImplementedException
from werkzeug.exceptions import MethodNotAllowed

from services.gateway.scim.responses import base_url, list_response, scim_json
from shared.domain.errors import Text
from shared.scim import discovery


def service_provider_config() -> Response:
    return scim_json(discovery.service_provider_config(base_url()))


def resource_types() -> Response:
    found = discovery.resource_types(base_url())
    return list_response(len(found), 1, found, lambda r: r)


def resource_type(name: str) -> Response:
    for found in discovery.resource_types(base_url()):
        if found["id"] == name:
            return scim_json(found)
    raise NotFoundException(detail=Text("There is no ResourceType %(name)s.", name=name))


def schemas() -> Response:
    found = discovery.schemas(base_url())
    return list_response(len(found), 1, found, lambda s: s)


def schema(schema_id: str) -> Response:
    for found in discovery.schemas(base_url()):
        if found["id"] == schema_id:
            return scim_json(found)
    raise NotFoundException(detail=Text("There is no Schema %(id)s.", id=schema_id))


def search_everything() -> Response:
    raise NotImplementedException(
        detail=Text("Search one resource type at a time: GET /Users, /Groups.")
    )


ENDPOINTS = {"ServiceProviderConfig", "ResourceTypes", "Schemas", "Users", "Groups", ".search"}


def unknown(path: str) -> Response:
    if path.split("/", 1)[0] in ENDPOINTS:  # a known endpoint, not with this method
        raise MethodNotAllowed()
    raise NotFoundException(detail=Text("There is no SCIM endpoint /%(path)s.", path=path))
