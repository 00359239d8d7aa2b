"""The caller's declared absences (leave pauses capital decay): ``POST``, ``GET`` and
``DELETE /api/v1/me/absences``."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields

from services.gateway.api.idempotency import idempotent
from services.gateway.api.positions import (
    POSITION_TOKEN,
    AsOfPosition,
    PositionToken,
    WrittenPosition,
)
from services.gateway.api.reads import as_of
from services.gateway.auth import current_caller
from services.gateway.resources import resources
from shared.commands.absences import absences_of, declare_absence, withdraw_absence

blp = Blueprint("absences", __name__, url_prefix="/api/v1", description="My declared absences")


class AbsenceIn(Schema):
    starts_on = fields.Date(required=True, metadata={"example": "2026-07-06"})
    ends_on = fields.Date(
        required=True,
        metadata={"description": "the last day away (included), at most 366 days later"},
    )


class AbsenceOut(Schema):
    absence_id = fields.UUID(required=True)
    event_id = fields.UUID(required=True)
    position = WrittenPosition(required=True, metadata={"description": POSITION_TOKEN})


class Absence(Schema):
    absence_id = fields.UUID(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class AbsencesArgs(Schema):
    min_position = PositionToken(load_default=0, metadata={"description": POSITION_TOKEN})


class AbsencesOut(Schema):
    as_of_position = AsOfPosition(required=True, metadata={"description": POSITION_TOKEN})
    absences = fields.List(fields.Nested(Absence), required=True)


@blp.route("/me/absences", methods=["POST"])
@idempotent
@blp.arguments(AbsenceIn(), unknown=RAISE)
@blp.response(201, AbsenceOut)
def declare(body: dict[str, Any]) -> Any:
    """Declare an absence (past, current or planned): capital does not decay while away."""
    written = declare_absence(
        resources().store, current_caller().actor("api"), on_appended=resources().wakeups, **body
    )
    return {"absence_id": written.id, "event_id": written.event_id, "position": written.position}


@blp.route("/me/absences")
@blp.arguments(AbsencesArgs(), location="query", unknown=RAISE)
@blp.response(200, AbsencesOut)
def list_absences(args: dict[str, Any]) -> Any:
    """My declared absences, earliest first."""
    caller = current_caller()
    position = as_of("capital", args["min_position"])
    with resources().engine.connect() as conn:
        mine = absences_of(conn, caller.tenant_id, caller.person_id)
    return {"as_of_position": position, "absences": mine}


@blp.route("/me/absences/<uuid:absence_id>", methods=["DELETE"])
@idempotent
@blp.response(200, AbsenceOut)
def withdraw(absence_id: uuid.UUID) -> Any:
    """Withdraw one of my declared absences."""
    written = withdraw_absence(
        resources().store, current_caller().actor("api"), absence_id, resources().wakeups
    )
    return {"absence_id": written.id, "event_id": written.event_id, "position": written.position}
