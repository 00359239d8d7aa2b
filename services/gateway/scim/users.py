"""``/scim/v2/Users``: schema -> command -> response (shared/scim does the work)."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from scim2_models import Context, NotFoundException, PatchOp

from services.gateway.scim.responses import (
    actor,
    answer,
    base_url,
    body,
    engine,
    list_response,
    page,
    resource_id,
    store,
)
from shared.domain.errors import Text
from shared.scim import leniency, reads
from shared.scim.mapping import UserModel, desired_user, user_resource
from shared.scim.provisioning import ProvisioningCommands

UserPatch = PatchOp[UserModel]


def _render(record: reads.UserRecord) -> dict[str, Any]:
    return user_resource(record, base_url())


def _id(value: str) -> Any:
    person_id = resource_id(value)
    if person_id is None:
        raise NotFoundException(detail=Text("There is no User %(id)s.", id=value))
    return person_id


def _found(value: str) -> reads.UserRecord:
    person_id = resource_id(value)
    with engine().connect() as conn:
        record = reads.find_user(conn, actor().tenant_id, person_id) if person_id else None
    if record is None:
        raise NotFoundException(detail=Text("There is no User %(id)s.", id=value))
    return record


def list_users() -> Response:
    start, count = page()
    with engine().connect() as conn:
        total, found = reads.list_users(
            conn, actor().tenant_id, request.args.get("filter"), start, count
        )
    return list_response(total, start, found, _render)


def create_user() -> Response:
    model = UserModel.model_validate(body(), scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    created = ProvisioningCommands(store()).create_user(actor(), desired_user(model))
    return answer(_render(created), 201)


def get_user(user_id: str) -> Response:
    return answer(_render(_found(user_id)))


def replace_user(user_id: str) -> Response:
    model = UserModel.model_validate(body(), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    want = desired_user(model)
    replaced = ProvisioningCommands(store()).replace_user(
        actor(), _id(user_id), lambda _: want, _render, request.headers.get("If-Match")
    )
    return answer(_render(replaced))


def _patched(operations: Any) -> Any:
    def change(record: reads.UserRecord) -> Any:
        current = _render(record)
        for email in current.get("emails", ()):
            email["type"] = "work"  # so Entra's emails[type eq "work"] paths find it
        model = UserModel.model_validate(
            {k: v for k, v in current.items() if k != "meta"},
            scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST,
        )
        operations.patch(model)
        return desired_user(model)

    return change


def patch_user(user_id: str) -> Response:
    operations = UserPatch.model_validate(
        leniency.patch_body(body(), user_id), scim_ctx=Context.RESOURCE_PATCH_REQUEST
    )
    patched = ProvisioningCommands(store()).replace_user(
        actor(), _id(user_id), _patched(operations), _render, request.headers.get("If-Match")
    )
    return answer(_render(patched))


def delete_user(user_id: str) -> Response:
    ProvisioningCommands(store()).delete_user(
        actor(), _id(user_id), _render, request.headers.get("If-Match")
    )
    return Response(status=204)
