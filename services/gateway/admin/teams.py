"""Teams: the organisation's tree with each team's size (teams whose people, with those of
the teams below, are fewer than k are flagged: their levers stay hidden), creating a team at
the top or under a parent, and making someone a team's manager (by their address)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, redirect, render_template, request, url_for

from services.gateway.admin.blueprint import bp
from services.gateway.admin.reads import person_by_email, team_tree
from services.gateway.portal.forms import FormState, me
from services.gateway.resources import resources
from shared.commands.settings import organisation_settings
from shared.directory import Team
from shared.domain.errors import DomainError

NAME_MAX = 200


def render_teams(state: FormState | None = None, status: int = 200) -> Any:
    tenant_id = me().tenant_id
    with resources().engine.connect() as conn:
        tree = team_tree(conn, tenant_id)
        k = organisation_settings(conn, tenant_id, resources().settings).k
    return (
        render_template(
            "admin/teams.html",
            tree=tree,
            k=k,
            state=state or FormState(),
            done=request.args.get("done"),
        ),
        status,
    )


@bp.get("/teams")
def teams() -> Any:
    """The team tree with sizes and managers."""
    return render_teams()


@bp.post("/teams")
def create_team() -> Any:
    """Create a team, at the top or under a parent team."""
    state = FormState(values=dict(request.form))
    name = request.form.get("name", "").strip()
    parent: uuid.UUID | None = None
    if not name or len(name) > NAME_MAX:
        state.errors["name"] = [f"Give the team a name of 1 to {NAME_MAX} characters."]
    raw_parent = request.form.get("parent_team_id", "").strip()
    if raw_parent:
        try:
            parent = uuid.UUID(raw_parent)
        except ValueError:
            state.errors["parent_team_id"] = ["Choose a team of the list."]
    if state.errors:
        return render_teams(state, 422)
    try:
        resources().organization.create_team(me().actor("admin"), name, parent)
    except DomainError as err:
        state.errors["parent_team_id"] = [err.detail] if err.status == 404 else []
        state.message = None if err.status == 404 else err.detail
        return render_teams(state, 422 if err.status == 404 else err.status)
    return redirect(url_for("console.teams", done="created"))


@bp.post("/teams/<uuid:team_id>/managers")
def assign_manager(team_id: uuid.UUID) -> Any:
    """Make the person with this address a manager of the team."""
    tenant_id = me().tenant_id
    field = f"manager-{team_id}"
    state = FormState(values=dict(request.form))
    with resources().engine.connect() as conn:
        if (
            conn.execute(
                Team.__table__.select().where(Team.id == team_id, Team.tenant_id == tenant_id)
            ).first()
            is None
        ):
            abort(404, "no such team in this organisation")
        person_id = person_by_email(conn, tenant_id, request.form.get("email", ""))
    if person_id is None:
        state.errors[field] = ["Nobody in the organisation has this address."]
        return render_teams(state, 422)
    try:
        resources().organization.assign_manager(me().actor("admin"), team_id, person_id)
    except DomainError as err:
        if err.status == 404:
            raise
        state.errors[field] = [err.detail]
        return render_teams(state, err.status)
    return redirect(url_for("console.teams", done="manager"))
