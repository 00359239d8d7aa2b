"""Teams: the organisation's tree with each team's size (a team whose people, with those of
the teams below it, are fewer than k is flagged: its levers stay hidden); creating a team at
the top or under a parent; for one team, renaming it, moving it under another parent (a
cycle is refused with a message saying why), and adding or removing its managers."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from sqlalchemy import select

from services.gateway.admin.blueprint import bp
from services.gateway.admin.reads import person_by_email, team_managers, team_tree
from services.gateway.portal.forms import FormState, me
from services.gateway.resources import resources
from shared.commands.settings import organisation_settings
from shared.directory import Team
from shared.domain.errors import DomainError
from shared.i18n import N_, gettext

NAME_MAX = 200
DONE = {
    "created": N_("Team created."),
    "renamed": N_("Team renamed."),
    "moved": N_("Team moved."),
    "manager": N_("Manager assigned."),
    "removed": N_("Manager removed: they keep their role."),
}
"""What a change's redirect says (translated on the page)."""


def _tree_and_k() -> tuple[list[Any], int]:
    tenant_id = me().tenant_id
    with resources().engine.connect() as conn:
        tree = team_tree(conn, tenant_id)
        k = organisation_settings(conn, tenant_id, resources().settings).k
    return tree, k


def render_teams(state: FormState | None = None, status: int = 200) -> Any:
    tree, k = _tree_and_k()
    done = DONE.get(request.args.get("done", ""))
    page = render_template(
        "admin/teams.html",
        tree=tree,
        k=k,
        state=state or FormState(),
        done=done,
        none_id=uuid.UUID(int=0),
    )
    return page, status


def render_team(team_id: uuid.UUID, state: FormState | None = None, status: int = 200) -> Any:
    tree, k = _tree_and_k()
    team = next((t for t in tree if t.id == team_id), None)
    if team is None:
        abort(404, gettext("No such team in this organisation."))
    with resources().engine.connect() as conn:
        managers = team_managers(conn, me().tenant_id, team_id)
    below = {team_id}
    for t in tree:  # tree order: a parent comes before its children
        if t.parent_id in below:
            below.add(t.id)
    parents = [t for t in tree if t.id not in below]
    done = DONE.get(request.args.get("done", ""))
    page = render_template(
        "admin/team.html",
        team=team,
        parents=parents,
        managers=managers,
        k=k,
        state=state or FormState(),
        done=done,
    )
    return page, status


@bp.get("/teams")
def teams() -> Any:
    """The team tree with sizes and managers."""
    return render_teams()


@bp.get("/teams/<uuid:team_id>")
def team_page(team_id: uuid.UUID) -> Any:
    """One team: rename, move, managers."""
    return render_team(team_id)


def _parent(state: FormState) -> uuid.UUID | None:
    raw = request.form.get("parent_team_id", "").strip()
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        state.errors["parent_team_id"] = [gettext("Choose a team of the list.")]
        return None


@bp.post("/teams")
def create_team() -> Any:
    """Create a team, at the top or under a parent team."""
    state = FormState(values=dict(request.form))
    name = request.form.get("name", "").strip()
    if not name or len(name) > NAME_MAX:
        state.errors["name"] = [
            gettext("Give the team a name of 1 to %(max)d characters.", max=NAME_MAX)
        ]
    parent = _parent(state)
    if state.errors:
        return render_teams(state, 422)
    try:
        resources().organization.create_team(me().actor("admin"), name, parent)
    except DomainError as err:
        state.errors["parent_team_id"] = [err.detail]
        return render_teams(state, 422)
    return redirect(url_for("console.teams", done="created"))


def _team_change(team_id: uuid.UUID, done: str, change: Callable[[], None]) -> Any:
    """Run ``change`` (a command on this team); a refusal re-renders the team's page."""
    _known(team_id)
    state = FormState(values=dict(request.form))
    try:
        change()
    except DomainError as err:
        if err.status == 404 and not err.errors:
            state.errors["parent_team_id"] = [err.detail]  # the parent, the team is known
        state.errors.update(err.errors)
        state.message = None if state.errors else err.detail
        return render_team(team_id, state, 422 if err.status == 404 else err.status)
    return redirect(url_for("console.team_page", team_id=team_id, done=done))


@bp.post("/teams/<uuid:team_id>/rename")
def rename_team(team_id: uuid.UUID) -> Any:
    """Give the team another name."""
    name = request.form.get("name", "")
    actor = me().actor("admin")
    organization = resources().organization
    return _team_change(team_id, "renamed", lambda: organization.rename_team(actor, team_id, name))


@bp.post("/teams/<uuid:team_id>/move")
def move_team_under(team_id: uuid.UUID) -> Any:
    """Put the team under another parent, or at the top."""
    _known(team_id)
    state = FormState(values=dict(request.form))
    parent = _parent(state)
    if state.errors:
        return render_team(team_id, state, 422)
    actor = me().actor("admin")
    organization = resources().organization
    return _team_change(team_id, "moved", lambda: organization.move_team(actor, team_id, parent))


@bp.post("/teams/<uuid:team_id>/managers")
def assign_manager(team_id: uuid.UUID) -> Any:
    """Make the person with this address a manager of the team."""
    _known(team_id)
    with resources().engine.connect() as conn:
        person_id = person_by_email(conn, me().tenant_id, request.form.get("email", ""))
    if person_id is None:
        state = FormState(values=dict(request.form))
        state.errors["email"] = [gettext("Nobody in the organisation has this address.")]
        return render_team(team_id, state, 422)
    actor = me().actor("admin")
    organization = resources().organization
    return _team_change(
        team_id, "manager", lambda: organization.assign_manager(actor, team_id, person_id)
    )


@bp.post("/teams/<uuid:team_id>/managers/<uuid:person_id>/remove")
def remove_manager(team_id: uuid.UUID, person_id: uuid.UUID) -> Any:
    """The person stops managing the team."""
    actor = me().actor("admin")
    organization = resources().organization
    return _team_change(
        team_id, "removed", lambda: organization.remove_manager(actor, team_id, person_id)
    )


def _known(team_id: uuid.UUID) -> None:
    """404 for a team of another organisation, before anything else."""
    with resources().engine.connect() as conn:
        found = conn.execute(
            select(Team.id).where(Team.id == team_id, Team.tenant_id == me().tenant_id)
        ).first()
    if found is None:
        abort(404, gettext("No such team in this organisation."))
