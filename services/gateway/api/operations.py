"""Operations for the operators' admins: projection status and rebuilds."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from services.gateway.auth import current_caller
from services.gateway.resources import resources
from shared.domain.errors import Forbidden, NotFound, Text
from shared.projections.rebuild import wanted_generation
from shared.wakeups import send_rebuild

blp = Blueprint(
    "operations", __name__, url_prefix="/api/v1", description="Operations (operators' admins)"
)


class ProjectionOut(Schema):
    name = fields.String(required=True)
    version = fields.Integer(required=True)
    generation = fields.Integer(required=True)
    position = fields.Integer(required=True)
    head = fields.Integer(required=True)
    lag_events = fields.Integer(required=True)
    lag_seconds = fields.Float(required=True)
    status = fields.String(required=True)
    last_error = fields.String(allow_none=True)
    error_position = fields.Integer(allow_none=True)
    quarantined_tenants = fields.Integer(
        metadata={"description": "tenants whose part waits at a poison event of theirs"}
    )
    held_events = fields.Integer(
        metadata={"description": "events held back for them, their poison events included"}
    )
    rebuilding = fields.Integer(
        allow_none=True, metadata={"description": "the generation being rebuilt, if any"}
    )
    rebuild_position = fields.Integer(
        allow_none=True,
        metadata={
            "description": "how far that rebuild is: the events folded so far (chunks of "
            "people, not log order), reaching the head when its pass ends"
        },
    )


class RebuildOut(Schema):
    name = fields.String(required=True)
    message_id = fields.String(required=True)


def _admin() -> None:
    """Projections span every organisation: only an admin of an operator organisation
    (``COMPOUND_OPERATOR_ORGS``; unset, no organisation's) sees or rebuilds them through the
    API. Operators also have the CLI (``compound projections ...``)."""
    caller = current_caller()
    if caller.role != "admin":
        raise Forbidden(Text("Only an operator's admin can see or rebuild projections."))
    if str(caller.tenant_id) not in resources().settings.operator_orgs:
        raise Forbidden(
            Text(
                "Projections serve every organisation of this deployment: only admins of its "
                "operator organisations (COMPOUND_OPERATOR_ORGS) see or rebuild them. Operators "
                "use `compound projections status` and `compound projections rebuild`."
            )
        )


@blp.route("/projections")
@blp.response(200, ProjectionOut(many=True))
def list_projections() -> Any:
    """Position and lag (events and seconds) of each projection, and its last error."""
    _admin()
    return [vars(s) for s in resources().projections.status()]


@blp.route("/projections/<string:name>/rebuild", methods=["POST"])
@blp.response(202, RebuildOut)
def rebuild_projection(name: str) -> Any:
    """Rebuild a projection in a worker: the current tables serve until the new ones are done."""
    _admin()
    if name not in resources().projections.projections:
        raise NotFound(Text("There is no projection named %(name)s.", name=name))
    with resources().engine.connect() as conn:
        wanted = wanted_generation(conn, name)  # a rebuild running now may predate the ask
    return {"name": name, "message_id": send_rebuild(name, resources().broker, wanted)}
