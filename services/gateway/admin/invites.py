"""Inviting: one person by a form, or many from a pasted list or a CSV file
(``email,name,team,role``).

A list is previewed first: every row with its own messages (a bad address, an unknown
team or role, an address the organisation has, the same address twice), and nothing is
written. Confirming invites the good rows as one batch
(:meth:`~shared.commands.people.PeopleCommands.invite_batch`: all or nothing, and
idempotent, since the preview chose the batch's id: confirming twice invites no one twice
and mails no one twice). Each invitation is mailed; the page shows every link too.

Post-redirect-get: a form that invites answers with a redirect to the result's own page
(:mod:`services.gateway.admin.sent`), so reloading it shows the result again and sends
nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import redirect, render_template, request

from services.gateway.admin.blueprint import bp
from services.gateway.admin.reads import emails_taken, team_choices
from services.gateway.admin.sent import keep_sent
from services.gateway.portal.forms import FormState, me
from services.gateway.resources import resources
from shared.commands.people import batch_person_id
from shared.domain.errors import DomainError
from shared.eventlog.events import ROLES
from shared.i18n import format_number, gettext
from shared.invitation_rows import MAX_ROWS, Row, check_rows, read_rows
from shared.invitations import mail_invitation

UPLOAD_MAX_BYTES = 4 * 1024 * 1024


def render_invite(state: FormState | None = None, status: int = 200) -> Any:
    with resources().engine.connect() as conn:
        teams = team_choices(conn, me().tenant_id)
    return (
        render_template("admin/invite.html", teams=teams, roles=ROLES, state=state or FormState()),
        status,
    )


@bp.get("/invite")
def invite() -> Any:
    """The invitation forms: one person, or a list to preview."""
    return render_invite()


def _checked(rows: list[Row], batch_id: uuid.UUID | None = None) -> list[Row]:
    """``rows`` checked against the organisation (the addresses this batch recorded
    already are not "taken": confirming again replays them)."""
    tenant_id = me().tenant_id
    with resources().engine.connect() as conn:
        teams = team_choices(conn, tenant_id)
        taken = emails_taken(conn, tenant_id)
    if batch_id is not None:
        ours = {
            email
            for email, person_id in taken.items()
            if person_id == batch_person_id(tenant_id, batch_id, email)
        }
        taken = {e: p for e, p in taken.items() if e not in ours}
    return check_rows(rows, teams, taken)


def _write(rows: list[Row], batch_id: uuid.UUID) -> list[dict[str, Any]]:
    """Invite the good rows as one batch and mail each new invitation."""
    res = resources()
    caller = me()
    good = [r for r in rows if r.ok]
    invitations = res.organization.invite_batch(
        caller.actor("admin"), batch_id, [r.invitee() for r in good]
    )
    sent = []
    for row, invitation in zip(good, invitations, strict=True):
        outcome: dict[str, Any] = {"mail": "already", "link": None}
        if not invitation.replayed:
            outcome = mail_invitation(
                res.settings, res.mailer, caller.tenant_id, invitation, res.engine
            )
        sent.append({"row": row, **outcome})
    return sent


@bp.post("/invite")
def invite_one() -> Any:
    """Invite one person (their address, and optionally a name, a team and a role)."""
    form = request.form
    team_id = form.get("team_id", "").strip()
    row = Row(1, form.get("email", "").strip(), form.get("name", "").strip(), team_id)
    row.role = form.get("role", "").strip()
    state = FormState(values=dict(form))
    _checked([row])
    if not row.ok:
        names = {"team": "team_id", "_row": "email"}
        state.errors = {names.get(k, k): v for k, v in row.errors.items()}
        return render_invite(state, 422)
    try:
        sent = _write([row], uuid.uuid4())
    except DomainError as err:  # e.g. invited meanwhile by another admin: said at the field
        state.errors = dict(err.errors)
        state.message = None if err.errors else err.detail
        return render_invite(state, err.status)
    return redirect(keep_sent(sent, []), 303)


def _posted_list() -> tuple[str, str | None]:
    """The list pasted or uploaded, and what is wrong with it (None: fine)."""
    upload = request.files.get("csv")
    if upload is not None and upload.filename:
        raw = upload.read(UPLOAD_MAX_BYTES + 1)
        if len(raw) > UPLOAD_MAX_BYTES:
            return "", gettext("The file is larger than 4 MB: split it.")
        try:
            return raw.decode("utf-8-sig"), None
        except UnicodeDecodeError:
            return "", gettext("The file is not UTF-8 text: save it as CSV (UTF-8).")
    return request.form.get("list", ""), None


def _list_problem(text: str, rows: list[Row]) -> str | None:
    if not rows:
        return gettext("Give at least one address: one per line, or a CSV file.")
    if len(rows) > MAX_ROWS:
        return gettext(
            "At most %(max)s people at once: split the list.", max=format_number(MAX_ROWS)
        )
    return None


@bp.post("/invite/preview")
def preview() -> Any:
    """Read and check the list, row by row; nothing is written."""
    text, problem = _posted_list()
    rows = read_rows(text) if problem is None else []
    problem = problem or _list_problem(text, rows)
    if problem:
        state = FormState(values={"list": text}, errors={"list": [problem]})
        return render_invite(state, 422)
    _checked(rows)
    return render_template(
        "admin/preview.html",
        rows=rows,
        good=sum(r.ok for r in rows),
        text=text,
        batch_id=uuid.uuid4(),
    )


@bp.post("/invite/confirm")
def confirm() -> Any:
    """Invite the previewed list's good rows (again: nothing new)."""
    text = request.form.get("list", "")
    try:
        batch_id = uuid.UUID(request.form.get("batch_id", ""))
    except ValueError:
        state = FormState(
            values={"list": text}, message=gettext("Preview the list again, then confirm.")
        )
        return render_invite(state, 400)
    rows = read_rows(text)
    problem = _list_problem(text, rows)
    if problem:
        return render_invite(FormState(values={"list": text}, errors={"list": [problem]}), 422)
    _checked(rows, batch_id)
    try:
        sent = _write(rows, batch_id)
    except DomainError as err:  # the organisation changed since the preview: preview again
        state = FormState(values={"list": text}, message=err.detail)
        return render_invite(state, err.status)
    return redirect(keep_sent(sent, [r for r in rows if not r.ok]), 303)


def allow_larger_lists() -> None:
    """A list may be larger than other forms (up to 4 MB). Registered by
    :func:`services.gateway.admin.init_app` before every other hook of the app: the CSRF
    check reads the form, and the body's limit must be raised before that."""
    if request.endpoint in ("console.preview", "console.confirm"):
        request.max_content_length = UPLOAD_MAX_BYTES + 64 * 1024
        request.max_form_memory_size = UPLOAD_MAX_BYTES + 1024  # the pasted list's field
