"""The caller's working hours and time zone (time pressure measures meetings against them):
``GET`` and ``PUT /api/v1/me/working-hours``."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields

from services.gateway.api.idempotency import idempotent
from services.gateway.auth import current_caller
from services.gateway.resources import resources
from shared.commands.working_hours import set_working_hours, working_hours_of
from shared.domain.working_hours import DAYS

blp = Blueprint("working_hours", __name__, url_prefix="/api/v1", description="My working hours")


class WorkingHoursIn(Schema):
    start = fields.String(
        required=True,
        metadata={"description": "start of the working day, HH:MM", "example": "09:00"},
    )
    end = fields.String(
        required=True,
        metadata={
            "description": "end of the working day, HH:MM (24:00 allowed)",
            "example": "17:00",
        },
    )
    # Days are checked by the command, so a bad one is an error of ``working_days`` itself.
    working_days = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": f"each day once, of {', '.join(DAYS)}",
            "example": ["mon", "tue", "wed", "thu", "fri"],
        },
    )
    time_zone = fields.String(
        required=True, metadata={"description": "IANA time zone", "example": "Europe/Berlin"}
    )


class WorkingHoursOut(WorkingHoursIn):
    changed = fields.Boolean(
        required=True, metadata={"description": "false: the defaults (09:00-17:00, Mon-Fri)"}
    )


@blp.route("/me/working-hours")
@blp.response(200, WorkingHoursOut)
def get_working_hours() -> Any:
    """My working hours and time zone (the defaults until I set them)."""
    caller = current_caller()
    with resources().engine.connect() as conn:
        return working_hours_of(resources().store, conn, caller.tenant_id, caller.person_id)


@blp.route("/me/working-hours", methods=["PUT"])
@idempotent
@blp.arguments(WorkingHoursIn(), unknown=RAISE)
@blp.response(200, WorkingHoursOut)
def put_working_hours(body: dict[str, Any]) -> Any:
    """Set my working hours and time zone, from this ISO week on (earlier weeks keep theirs)."""
    return set_working_hours(resources().store, current_caller().actor("api"), **body)
