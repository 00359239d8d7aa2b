"""``/scim/v2/Groups``: a group is a team, its members the team's members."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from scim2_models import Context, Group, NotFoundException, PatchOp

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
    wants_attribute,
)
from shared.domain.errors import Text
from shared.scim import leniency, reads
from shared.scim.mapping import desired_group, group_resource
from shared.scim.provisioning import ProvisioningCommands

GroupPatch = PatchOp[Group]


def _render(record: reads.GroupRecord) -> dict[str, Any]:
    return group_resource(record, base_url(), members=wants_attribute("members"))


def _full(record: reads.GroupRecord) -> dict[str, Any]:
    return group_resource(record, base_url())


def _id(value: str) -> Any:
    team_id = resource_id(value)
    if team_id is None:
        raise NotFoundException(detail=Text("There is no Group %(id)s.", id=value))
    return team_id


def _found(value: str, members: bool = True) -> reads.GroupRecord:
    team_id = resource_id(value)
    with engine().connect() as conn:
        record = reads.find_group(conn, actor().tenant_id, team_id, members) if team_id else None
    if record is None:
        raise NotFoundException(detail=Text("There is no Group %(id)s.", id=value))
    return record


def _group(data: dict[str, Any], context: Context) -> Group:
    return Group.model_validate(leniency.group_body(data), scim_ctx=context)


def list_groups() -> Response:
    start, count = page()
    with engine().connect() as conn:
        total, found = reads.list_groups(
            conn,
            actor().tenant_id,
            request.args.get("filter"),
            start,
            count,
            members=wants_attribute("members"),
        )
    return list_response(total, start, found, _render)


def create_group() -> Response:
    want = desired_group(_group(body(), Context.RESOURCE_CREATION_REQUEST))
    return answer(_render(ProvisioningCommands(store()).create_group(actor(), want)), 201)


def get_group(group_id: str) -> Response:
    return answer(_render(_found(group_id, members=wants_attribute("members"))))


def replace_group(group_id: str) -> Response:
    want = desired_group(_group(body(), Context.RESOURCE_REPLACEMENT_REQUEST))
    replaced = ProvisioningCommands(store()).replace_group(
        actor(), _id(group_id), lambda _: want, _full, request.headers.get("If-Match")
    )
    return answer(_render(replaced))


def _patched(operations: Any) -> Any:
    def change(record: reads.GroupRecord) -> Any:
        current = {k: v for k, v in _full(record).items() if k != "meta"}
        model = Group.model_validate(current, scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
        operations.patch(model)
        return desired_group(model)

    return change


def patch_group(group_id: str) -> Response:
    operations = GroupPatch.model_validate(
        leniency.patch_body(body(), group_id), scim_ctx=Context.RESOURCE_PATCH_REQUEST
    )
    patched = ProvisioningCommands(store()).replace_group(
        actor(), _id(group_id), _patched(operations), _full, request.headers.get("If-Match")
    )
    return answer(_render(patched))


def delete_group(group_id: str) -> Response:
    ProvisioningCommands(store()).delete_group(
        actor(), _id(group_id), _full, request.headers.get("If-Match")
    )
    return Response(status=204)
