"""Admin endpoints: teams, invitations, managers, people, bulk import."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from services.gateway.api.idempotency import idempotent
from services.gateway.api.schemas import (
    ImportIn,
    ImportOut,
    InvitationIn,
    InvitationOut,
    ManagerIn,
    PersonOut,
    TeamIn,
    TeamOut,
)
from services.gateway.auth import current_caller
from services.gateway.resources import resources
from shared.commands import second_factor
from shared.directory import Person, Team
from shared.domain.errors import Forbidden, Text
from shared.eventlog.events import ROLES
from shared.gc_pause import collector_paused
from shared.invitations import mail_invitation

blp = Blueprint("admin", __name__, url_prefix="/api/v1", description="Organisation admin")

IMPORT_MAX_BYTES = 32 * 1024 * 1024


def _admin() -> Any:
    caller = current_caller()
    if caller.role != "admin":
        raise Forbidden(Text("Only an admin can do this."))
    return caller


@blp.route("/teams", methods=["GET"])
@blp.response(200, TeamOut(many=True))
def list_teams() -> Any:
    """The organisation's teams (any member of the organisation may list them)."""
    caller = current_caller()
    with resources().engine.connect() as conn:
        return (
            conn.execute(
                select(Team.id, Team.name, Team.parent_team_id)
                .where(Team.tenant_id == caller.tenant_id)
                .order_by(Team.name)
            )
            .mappings()
            .all()
        )


@blp.route("/teams", methods=["POST"])
@idempotent
@blp.arguments(TeamIn())
@blp.response(201, TeamOut)
def create_team(body: dict[str, Any]) -> Any:
    """Create a team, optionally below a parent team (admin)."""
    caller = _admin()
    team_id = resources().organization.create_team(
        caller.actor("api"), body["name"], body["parent_team_id"]
    )
    return {"id": team_id, **body}


@blp.route("/teams/<uuid:team_id>/managers", methods=["POST"])
@blp.arguments(ManagerIn())
@blp.response(204)
def assign_manager(body: dict[str, Any], team_id: uuid.UUID) -> Any:
    """Make a person a manager of a team (admin)."""
    resources().organization.assign_manager(_admin().actor("api"), team_id, body["person_id"])
    return ""


@blp.route("/invitations", methods=["POST"])
@idempotent
@blp.arguments(InvitationIn())
@blp.response(201, InvitationOut)
def invite(body: dict[str, Any]) -> Any:
    """Invite a person by e-mail: the link that lets them set a password is mailed to them and
    returned for scripts; ``mail`` says whether the mail server accepted it (admin)."""
    caller = _admin()
    invitation = resources().organization.invite(
        caller.actor("api"), body["email"], body["role"], body["team_id"]
    )
    res = resources()
    return mail_invitation(res.settings, res.mailer, caller.tenant_id, invitation, res.engine)


@blp.route("/people", methods=["GET"])
@blp.response(200, PersonOut(many=True))
def list_people() -> Any:
    """Everyone in the organisation (admin)."""
    caller = _admin()
    with resources().engine.connect() as conn:
        return (
            conn.execute(
                select(Person.id, Person.email, Person.display_name, Person.role, Person.status)
                .where(Person.tenant_id == caller.tenant_id)
                .order_by(Person.email)
            )
            .mappings()
            .all()
        )


class RoleIn(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class MoveIn(Schema):
    team_id = fields.UUID(required=True)


@blp.route("/people/<uuid:person_id>/role", methods=["POST"])
@blp.arguments(RoleIn())
@blp.response(204)
def change_role(body: dict[str, Any], person_id: uuid.UUID) -> Any:
    """Change a person's role: employee, manager or admin (admin)."""
    resources().organization.change_role(_admin().actor("api"), person_id, body["role"])
    return ""


@blp.route("/people/<uuid:person_id>/team", methods=["POST"])
@blp.arguments(MoveIn())
@blp.response(204)
def move_person(body: dict[str, Any], person_id: uuid.UUID) -> Any:
    """Move a person to another team (admin)."""
    resources().organization.move(_admin().actor("api"), person_id, body["team_id"])
    return ""


@blp.route("/people/<uuid:person_id>/leave", methods=["POST"])
@blp.response(204)
def person_left(person_id: uuid.UUID) -> Any:
    """Record that a person left the organisation: their tokens stop working (admin)."""
    resources().organization.leave(_admin().actor("api"), person_id)
    return ""


@blp.route("/people/<uuid:person_id>/second-factor", methods=["DELETE"])
@blp.response(204)
def remove_second_factor(person_id: uuid.UUID) -> Any:
    """Turn off a person's second factor, for someone who lost both their phone and their
    recovery codes (admin). Their next login asks the password only; if the organisation
    requires a second factor, they enrol again right after it."""
    second_factor.remove_for(resources().store, _admin().actor("api"), person_id)
    return ""


@blp.route("/people/<uuid:person_id>", methods=["DELETE"])
@blp.response(204)
def erase_person(person_id: uuid.UUID) -> Any:
    """Erase a person (crypto-shredding): the person themself or an admin."""
    caller = current_caller()
    resources().organization.erase(caller.actor("api"), person_id)
    return ""


@blp.route("/events:import", methods=["POST"])
@collector_paused()  # tens of thousands of small objects, no cycles: a sixth of its CPU
@idempotent
@blp.arguments(ImportIn())
@blp.response(201, ImportOut)
def import_events(body: dict[str, Any]) -> Any:
    """Bulk import journal and calendar events (admin): validated, all or nothing,
    idempotent with ``Idempotency-Key``."""
    caller = _admin()
    results = resources().bulk_journal.import_events(caller.actor("import"), body["events"])
    positions = [p for r in results for p in r.positions]
    return {
        "imported": len(positions),
        "replayed": any(r.replayed for r in results),
        "first_position": min(positions, default=None),
        "last_position": max(positions, default=None),
    }


@blp.before_request
def _larger_bodies_for_imports() -> None:
    if request.path.endswith("/events:import"):
        request.max_content_length = IMPORT_MAX_BYTES
