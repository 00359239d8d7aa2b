"""People: search and filter the organisation's people; for one person, resend their
invitation (post-redirect-get: the page then shows the new link), change their role, move
them to another team, record that they left, or erase them (the admin types the person's
address to confirm). Each change is the organisation's command, so an event in the log; a
refusal re-renders the person's page with 422 and the message, and writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, redirect, render_template, request, url_for

from services.gateway.admin.blueprint import bp
from services.gateway.admin.reads import (
    PAGE_SIZE,
    STATUSES,
    PeopleQuery,
    people_page,
    person,
    team_choices,
)
from services.gateway.admin.sent import keep_sent, read_sent
from services.gateway.portal.forms import FormState, me
from services.gateway.resources import resources
from shared.commands.people import Invitation
from shared.domain.errors import DomainError, InvalidInput
from shared.eventlog.events import ROLES
from shared.i18n import N_, gettext
from shared.invitations import mail_invitation

DONE = {
    "role": N_("Role changed."),
    "team": N_("Moved to the team."),
    "left": N_("Recorded as left: their sessions and tokens no longer work."),
    "erased": N_("Erased: their personal data is gone for good."),
}
"""What a change's redirect says (translated on the page)."""


@bp.get("/people")
def people() -> Any:
    """The organisation's people, a page at a time, filtered by text, team, role, status."""
    query = PeopleQuery.of(request.args)
    tenant_id = me().tenant_id
    with resources().engine.connect() as conn:
        rows, total = people_page(conn, tenant_id, query)
        teams = team_choices(conn, tenant_id)
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template(
        "admin/people.html",
        rows=rows,
        total=total,
        query=query,
        pages=pages,
        teams=teams,
        roles=ROLES,
        statuses=STATUSES,
    )


def render_person(person_id: uuid.UUID, state: FormState | None = None, status: int = 200) -> Any:
    """One person's page with its forms (``state``: a refused form's messages; ``?sent=``:
    the invitation just resent)."""
    tenant_id = me().tenant_id
    with resources().engine.connect() as conn:
        row = person(conn, tenant_id, person_id)
        teams = team_choices(conn, tenant_id)
    if row is None:
        abort(404, gettext("No such person in this organisation."))
    done = DONE.get(request.args.get("done", ""))
    kept = read_sent(request.args["sent"]) if request.args.get("sent") else None
    sent = next((s for s in kept["sent"] if s["email"] == row.email), None) if kept else None
    return (
        render_template(
            "admin/person.html",
            p=row,
            teams=teams,
            roles=ROLES,
            state=state or FormState(),
            done=done,
            sent=sent,
        ),
        status,
    )


@bp.get("/people/<uuid:person_id>")
def person_page(person_id: uuid.UUID) -> Any:
    """One person: their role, team and status, and what an admin can do about them."""
    return render_person(person_id)


def _act(person_id: uuid.UUID, done: str, command: Any, *args: Any) -> Any:
    state = FormState(values=dict(request.form))
    try:
        command(me().actor("admin"), person_id, *args)
    except InvalidInput as err:
        state.errors.update(err.errors)
        state.message = None if err.errors else err.detail
        return render_person(person_id, state, err.status)
    except DomainError as err:
        if err.status == 404:
            raise
        state.message = err.detail
        return render_person(person_id, state, err.status)
    return redirect(url_for("console.person_page", person_id=person_id, done=done))


@bp.post("/people/<uuid:person_id>/role")
def change_role(person_id: uuid.UUID) -> Any:
    """Give the person another role (employee, manager, admin)."""
    role = request.form.get("role", "")
    if role not in ROLES:
        state = FormState(values=dict(request.form), errors={"role": [gettext("Choose a role.")]})
        return _known(person_id) or render_person(person_id, state, 422)
    return _act(person_id, "role", resources().organization.change_role, role)


@bp.post("/people/<uuid:person_id>/team")
def move_team(person_id: uuid.UUID) -> Any:
    """Move the person to another team of the organisation."""
    try:
        team_id = uuid.UUID(request.form.get("team_id", ""))
    except ValueError:
        state = FormState(
            values=dict(request.form), errors={"team_id": [gettext("Choose a team.")]}
        )
        return _known(person_id) or render_person(person_id, state, 422)
    return _act(person_id, "team", resources().organization.move, team_id)


@bp.post("/people/<uuid:person_id>/leave")
def mark_left(person_id: uuid.UUID) -> Any:
    """Record that the person left: they can no longer log in; their history stays."""
    return _act(person_id, "left", resources().organization.leave)


@bp.post("/people/<uuid:person_id>/erase")
def erase(person_id: uuid.UUID) -> Any:
    """Erase the person (crypto-shredding), once the admin typed their address."""
    with resources().engine.connect() as conn:
        row = person(conn, me().tenant_id, person_id)
    if row is None:
        abort(404, gettext("No such person in this organisation."))
    typed = request.form.get("confirm", "").strip().lower()
    if not row.email or typed != row.email.lower():
        message = gettext("Type the person's e-mail address exactly to confirm the erasure.")
        state = FormState(values=dict(request.form), errors={"confirm": [message]})
        return render_person(person_id, state, 422)
    return _act(person_id, "erased", resources().organization.erase)


@bp.post("/people/<uuid:person_id>/resend")
def resend(person_id: uuid.UUID) -> Any:
    """Mail the invitation link again to someone who has not joined yet."""
    res = resources()
    tenant_id = me().tenant_id
    with res.engine.connect() as conn:
        row = person(conn, tenant_id, person_id)
    if row is None:
        abort(404, gettext("No such person in this organisation."))
    if row.status != "invited" or not row.email:
        message = gettext("Only someone invited who has not joined yet can get it again.")
        state = FormState(message=message)
        return render_person(person_id, state, 409)
    invitation = Invitation(row.id, row.email)
    sent = mail_invitation(res.settings, res.mailer, tenant_id, invitation, res.engine)
    return redirect(keep_sent([{"row": row, **sent}], [], person=person_id), 303)


def _known(person_id: uuid.UUID) -> Any:
    """A 404 for a person of another organisation before any message about the form."""
    with resources().engine.connect() as conn:
        if person(conn, me().tenant_id, person_id) is None:
            abort(404, gettext("No such person in this organisation."))
    return None
