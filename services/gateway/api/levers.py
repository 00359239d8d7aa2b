"""Team levers: a team's weeks (managers of it or of a parent team, admins) and the
organisation's (admins), as released: each closed week's figures were computed once, over
at least k eligible people, noised, and stored as an event (:mod:`shared.releases`); a week
without a release shows no figure, only why (docs/privacy.md)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import Connection

from services.gateway.api.fast_dump import compile_dump, json_response
from services.gateway.api.positions import POSITION_TOKEN, AsOfPosition
from services.gateway.api.reads import ReadArgs, as_of
from services.gateway.api.week_ranges import requested_weeks
from services.gateway.auth import PortalUser, current_caller
from services.gateway.resources import resources
from shared.commands.settings import change_settings, organisation_settings, patch_settings
from shared.domain.errors import Forbidden, NotFound, Text
from shared.domain.weeks import parse_iso_week
from shared.eventlog.events import IsoWeek
from shared.i18n.catalogue import LOCALES
from shared.projections.levers import team_ancestry
from shared.releases.reads import read_org_releases, read_team_releases

blp = Blueprint("levers", __name__, url_prefix="/api/v1", description="Team levers")
DEFAULT_WEEKS = 12


class LeverArgs(ReadArgs):
    from_ = IsoWeek(data_key="from", metadata={"description": "first ISO week, e.g. 2026-W36"})
    to = IsoWeek(metadata={"description": "last ISO week (default: this week)"})

    @validates_schema
    def _order(self, data: dict[str, Any], **_: Any) -> None:
        if (
            "from_" in data
            and "to" in data
            and parse_iso_week(data["from_"]) > parse_iso_week(data["to"])
        ):
            raise ValidationError({"from": [Text("Must not be after `to`.")]})


REASON = fields.String(
    required=True,
    allow_none=True,
    metadata={
        "description": "why there is no value: no_data, fewer_than_k, protects_smaller_group, "
        "too_noisy or not_released (null when shown)"
    },
)


class LeverCell(Schema):
    value = fields.Float(required=True, allow_none=True)
    n = fields.Integer(required=True, allow_none=True)
    suppressed = fields.Boolean(required=True)
    trend = fields.Float(
        required=True, allow_none=True, metadata={"description": "change since the week before"}
    )
    margin = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "half-width of the 90% interval of the privacy noise"},
    )
    reason = REASON
    parts = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "the parts the value is blended from (each over >= k people)"},
    )


class LeverWeek(Schema):
    week = fields.String(required=True)
    released = fields.Boolean(
        required=True, metadata={"description": "false: the week has no release (yet)"}
    )
    k = fields.Integer(
        required=True, allow_none=True, metadata={"description": "the k of the week's release"}
    )
    members = fields.Integer(required=True, allow_none=True)
    levers = fields.Dict(keys=fields.String(), values=fields.Nested(LeverCell), required=True)
    pulse_items = fields.Dict(keys=fields.String(), values=fields.Dict(), required=True)
    time_pressure_components = fields.Dict(required=True)
    reward_confirmation = fields.Dict(
        required=True,
        metadata={
            "description": "the share (0-100) of the rewarded actions a confirmed reward "
            "rewarded (the rest self-reported): value, n, margin, suppressed, reason"
        },
    )
    nudges = fields.List(fields.Dict(), required=True)


class TeamWeeks(Schema):
    team_id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)
    weeks = fields.List(fields.Nested(LeverWeek), required=True)


class TeamLeversOut(TeamWeeks):
    k = fields.Integer(required=True)
    as_of_position = AsOfPosition(required=True, metadata={"description": POSITION_TOKEN})
    model_version = fields.Integer(required=True)
    sub_teams = fields.List(fields.Nested(TeamWeeks), required=True)


class OrgLeversOut(Schema):
    k = fields.Integer(required=True)
    as_of_position = AsOfPosition(required=True, metadata={"description": POSITION_TOKEN})
    model_version = fields.Integer(required=True)
    weeks = fields.List(fields.Nested(LeverWeek), required=True)
    teams = fields.List(fields.Nested(TeamWeeks), required=True)


_DUMP_ORG = compile_dump(OrgLeversOut())


def _weeks(args: dict[str, Any], tenant_id: uuid.UUID) -> tuple[int, int]:
    """The weeks asked for, bounded (:func:`requested_weeks`)."""
    with resources().engine.connect() as conn:
        return requested_weeks(
            conn, tenant_id, args.get("from_"), args.get("to"), datetime.now(UTC), DEFAULT_WEEKS
        )


def authorize_team(conn: Connection, caller: PortalUser, team_id: uuid.UUID) -> None:
    """Who may read a team's levers (the API and the dashboards): its managers, managers of a
    team above it, and admins.

    Raises:
        NotFound: the caller's organisation has no such team.
        Forbidden: the caller may not read it.
    """
    ancestry = team_ancestry(conn, caller.tenant_id, team_id)
    if ancestry is None:
        raise NotFound(Text("There is no such team."))
    if caller.role != "admin" and not caller.managed_teams & set(ancestry):
        raise Forbidden(
            Text(
                "Only the managers of this team or of a team above it, and admins, see its levers."
            )
        )


@blp.route("/teams/<uuid:team_id>/levers")
@blp.arguments(LeverArgs(), location="query", unknown=RAISE)
@blp.response(200, TeamLeversOut)
def team_levers(args: dict[str, Any], team_id: uuid.UUID) -> Any:
    """A team's released levers per ISO week (its sub-teams rolled in) and each direct
    sub-team's, for managers of the team or of a parent team, and admins. Only published
    releases carry values; every hidden figure says why."""
    caller = current_caller()
    first, last = _weeks(args, caller.tenant_id)
    with resources().engine.connect() as conn:
        authorize_team(conn, caller, team_id)
        k = organisation_settings(conn, caller.tenant_id, resources().settings).k
    position = as_of("releases", args["min_position"])
    with resources().engine.connect() as conn:
        view = read_team_releases(conn, caller.tenant_id, team_id, first, last, k)
    return {"as_of_position": position, **view}


@blp.route("/org/levers")
@blp.arguments(LeverArgs(), location="query", unknown=RAISE)
@blp.response(200, OrgLeversOut)
def org_levers(args: dict[str, Any]) -> Any:
    """The organisation's released levers per ISO week and its top-level teams' (admins)."""
    caller = current_caller()
    if caller.role != "admin":
        raise Forbidden(Text("Only an admin can see the organisation's levers."))
    first, last = _weeks(args, caller.tenant_id)
    position = as_of("releases", args["min_position"])
    with resources().engine.connect() as conn:
        k = organisation_settings(conn, caller.tenant_id, resources().settings).k
        view = read_org_releases(conn, caller.tenant_id, first, last, k)
    # 1,000 teams' weeks: dumped as OrgLeversOut would be, without its per-field cost.
    return json_response(_DUMP_ORG({"as_of_position": position, **view}))


class OrgSettingsIn(Schema):
    k = fields.Integer(
        required=True,
        strict=True,
        metadata={"description": "smallest group a manager view shows (at least 3)"},
    )
    pulse_cadence_weeks = fields.Integer(
        required=True, strict=True, metadata={"description": "1 (weekly), 2 or 4"}
    )
    require_totp = fields.Boolean(
        metadata={
            "description": "everyone logs in with a second factor (TOTP); "
            "people without one enrol at their next login (absent: unchanged)"
        }
    )


class OrgSettingsPatch(Schema):
    """Any of the settings, alone or together; the others keep their values."""

    k = fields.Integer(
        strict=True, metadata={"description": "smallest group a manager view shows (at least 3)"}
    )
    pulse_cadence_weeks = fields.Integer(
        strict=True, metadata={"description": "1 (weekly), 2 or 4"}
    )
    require_totp = fields.Boolean(
        metadata={"description": "everyone logs in with a second factor (TOTP)"}
    )
    default_locale = fields.String(
        validate=validate.OneOf(LOCALES),
        metadata={
            "description": "the language (en, de, fr) of people who chose none and whose "
            "browser asks for none Compound has"
        },
    )


class OrgSettingsOut(OrgSettingsIn):
    changed = fields.Boolean(
        required=True, metadata={"description": "false: the deployment's defaults"}
    )
    default_locale = fields.String(
        required=True, metadata={"description": "the organisation's default language"}
    )


def _admin_actor() -> Any:
    caller = current_caller()
    if caller.role != "admin":
        raise Forbidden(Text("Only an admin can see or change the organisation's settings."))
    return caller


@blp.route("/org/settings")
@blp.response(200, OrgSettingsOut)
def get_org_settings() -> Any:
    """The organisation's privacy threshold k and pulse cadence (admins)."""
    caller = _admin_actor()
    with resources().engine.connect() as conn:
        return organisation_settings(conn, caller.tenant_id, resources().settings)


@blp.route("/org/settings", methods=["PUT"])
@blp.arguments(OrgSettingsIn(), unknown=RAISE)
@blp.response(200, OrgSettingsOut)
def put_org_settings(body: dict[str, Any]) -> Any:
    """Set k (never below 3), the pulse cadence and whether a second factor is required
    (admins)."""
    caller = _admin_actor()
    return change_settings(
        resources().store,
        caller.actor("api"),
        body["k"],
        body["pulse_cadence_weeks"],
        body.get("require_totp"),
    )


@blp.route("/org/settings", methods=["PATCH"])
@blp.arguments(OrgSettingsPatch(), unknown=RAISE)
@blp.response(200, OrgSettingsOut)
def patch_org_settings(body: dict[str, Any]) -> Any:
    """Change some settings (k never below 3, the pulse cadence, whether a second factor is
    required), alone or together; the others keep their values (admins)."""
    caller = _admin_actor()
    return patch_settings(resources().store, caller.actor("api"), resources().settings, body)
