"""Read models of the caller: capital (more arrive with the read-model issues).

Every response carries ``as_of_position`` (where its projection stands) and accepts
``?min_position=N``: the server waits up to 2 s for the projection to reach N, so a client
reads its own writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.gateway.auth import current_caller
from services.gateway.resources import resources
from shared.domain.nudges import employee_nudges
from shared.projections.capital import read_capital

blp = Blueprint("reads", __name__, url_prefix="/api/v1", description="The caller's read models")
MAX_WAIT_SECONDS = 2.0


class ReadArgs(Schema):
    min_position = fields.Integer(load_default=0, validate=validate.Range(min=0))


class CapitalOut(Schema):
    as_of_position = fields.Integer(required=True)
    model_version = fields.Integer(required=True)
    week = fields.String(required=True)
    scores = fields.Dict(required=True)
    history = fields.List(fields.Dict(), required=True)
    signal_vs_substance = fields.Dict(required=True)
    rotation = fields.Dict(required=True)
    consistency = fields.Dict(required=True)
    tactic_conversion = fields.Dict(required=True)
    flags = fields.List(fields.String(), required=True)
    nudges = fields.List(fields.Dict(), required=True)


def as_of(projection: str, min_position: int) -> int:
    """The projection's position, after waiting (bounded) for ``min_position``."""
    return resources().projections.wait_for(
        projection, min_position, MAX_WAIT_SECONDS if min_position else 0.0
    )


@blp.route("/me/capital")
@blp.arguments(ReadArgs, location="query")
@blp.response(200, CapitalOut)
def my_capital(args: dict[str, Any]) -> Any:
    """My career capital: scores, 12-week history, explanations, flags and nudges."""
    caller = current_caller()
    position = as_of("capital", args["min_position"])
    with resources().engine.connect() as conn:
        capital = read_capital(conn, caller.tenant_id, caller.person_id, datetime.now(UTC).date())
    return {"as_of_position": position, **capital, "nudges": employee_nudges(capital)}
