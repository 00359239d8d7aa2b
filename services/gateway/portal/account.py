"""The weekly pulse (anonymous), my account (password, working hours and time zone, personal
access tokens, calendar) and my data (export as JSON or CSV; erase me: crypto-shredding, then
I am logged out)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from flask import Response, redirect, render_template, request, url_for
from markupsafe import Markup, escape
from sqlalchemy import bindparam, select

from services.gateway import web_sessions
from services.gateway.api.schemas import NewPersonalToken
from services.gateway.api.working_hours import WorkingHoursIn
from services.gateway.auth import end_session as end_session_here
from services.gateway.auth import password_matches
from services.gateway.i18n import refresh_locale, request_language_settings
from services.gateway.organisation import request_organisation_settings
from services.gateway.portal import shown_once
from services.gateway.portal.blueprint import bp
from services.gateway.portal.forms import FormState, form_input, me, refused, seen, this_week
from services.gateway.resources import resources
from services.gateway.throttle import PASSWORD
from shared.commands import activity, personal_data
from shared.commands.absences import absences_of
from shared.commands.credentials import personal_tokens
from shared.commands.working_hours import set_working_hours, working_hours_of
from shared.directory import Team, TeamMember
from shared.domain.errors import DomainError, InvalidInput, NotFound
from shared.domain.levers import PULSE_QUESTIONS
from shared.domain.scopes import SCOPES, TOKEN_DAYS_DEFAULT, TOKEN_DAYS_MAX, scopes_of_role
from shared.domain.weeks import next_pulse_period
from shared.domain.working_hours import DAYS, time_zones
from shared.eventlog.events import PULSE_ITEMS
from shared.i18n import N_, gettext, ngettext
from shared.i18n.preferences import choose_language

TOKEN_FORM = NewPersonalToken()
HOURS_FORM = WorkingHoursIn()
DAY_NAMES = dict(
    zip(
        DAYS,
        (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun")),
        strict=True,
    )
)
SCOPE_LABELS = {
    "journal:read": N_("read my journal, capital and plans"),
    "journal:write": N_("log actions, outcomes and plans for me"),
    "levers:read": N_("read the lever dashboards I may see"),
    "admin": N_("administer the organisation"),
}
"""What each scope lets a token do, in words (the code stays beside it)."""
ERASE_PHRASE = N_("erase my data")
"""Typed to confirm an erasure: in the reader's language (the English phrase works too)."""
PULSE_STATEMENTS = PULSE_QUESTIONS  # the dashboards show the same words (one home)
assert tuple(PULSE_STATEMENTS) == PULSE_ITEMS
SCALE = (
    (1, N_("Strongly disagree")),
    (2, N_("Disagree")),
    (3, N_("Somewhat disagree")),
    (4, N_("Neutral")),
    (5, N_("Somewhat agree")),
    (6, N_("Agree")),
    (7, N_("Strongly agree")),
)


# -- pulse -----------------------------------------------------------------------------------


_MY_TEAMS = (
    select(Team.id, Team.name)
    .join(TeamMember, TeamMember.team_id == Team.id)
    .where(
        TeamMember.person_id == bindparam("person_id"),
        Team.tenant_id == bindparam("tenant_id"),
        TeamMember.is_manager.is_(False),  # not the pulse of a team I lead
    )
    .order_by(Team.name)
)
"""Built once (as :data:`services.gateway.portal.verification._COLLEAGUES`)."""


def my_teams() -> list[Any]:
    user = me()
    with resources().engine.connect() as conn:
        return list(
            conn.execute(
                _MY_TEAMS, {"person_id": user.person_id, "tenant_id": user.tenant_id}
            ).all()
        )


def answered(team_id: uuid.UUID, week: str, cadence: int | None = None) -> bool:
    """Whether I answered this team's pulse in the period holding ``week`` (the marker
    under the period's key: nothing else links the answer to me); ``cadence``: the
    organisation's, when read already."""
    return resources().journal.pulse_answered(me().actor(), team_id, week, cadence)


def render_pulse(state: FormState | None = None, status: int = 200) -> Any:
    week = this_week()
    cadence = request_organisation_settings(me().tenant_id).pulse_cadence_weeks
    teams = [
        {"id": t.id, "name": t.name, "answered": answered(t.id, week, cadence)} for t in my_teams()
    ]
    return render_template(
        "portal/pulse.html",
        state=state if state is not None else FormState(),
        teams=teams,
        open_teams=[t for t in teams if not t["answered"]],
        statements={item: gettext(text) for item, text in PULSE_STATEMENTS.items()},
        scale=[(n, gettext(label)) for n, label in SCALE],
        week=week,
        cadence=cadence,
        next_week=next_pulse_period(week, cadence),
    ), status


@bp.get("/pulse")
def pulse() -> Any:
    return render_pulse()


@bp.post("/pulse")
def submit_pulse() -> Any:
    state = FormState(values=dict(request.form))
    answers: dict[str, int] = {}
    for item in PULSE_ITEMS:
        value = request.form.get(item, "")
        if value in {str(n) for n, _ in SCALE}:
            answers[item] = int(value)
        else:
            state.errors[item] = [gettext("Choose one answer from 1 to 7.")]
    team_id: uuid.UUID | None = None
    try:
        team_id = uuid.UUID(request.form.get("team_id", ""))
    except ValueError:
        state.errors["team_id"] = [gettext("Choose the team this answer is for.")]
    if state.errors:
        return render_pulse(state, 422)
    try:
        resources().journal.submit_pulse(me().actor(), answers, team_id, this_week())
    except DomainError as err:
        return render_pulse(refused(state, err), err.status)
    return redirect(url_for("portal.pulse", sent=1))


# -- account ---------------------------------------------------------------------------------


def render_account(
    state: FormState | None = None, status: int = 200, new_token: str | None = None
) -> Any:
    user = me()
    seen("capital")  # declared absences are capital's rows (and its tables exist after this)
    with resources().engine.connect() as conn:
        tokens = personal_tokens(conn, user.person_id)
        hours = working_hours_of(resources().store, conn, user.tenant_id, user.person_id)
        away = absences_of(conn, user.tenant_id, user.person_id)
    return render_template(
        "portal/account.html",
        state=state if state is not None else FormState(),
        hours=hours,
        absences=away,
        day_names={day: gettext(name) for day, name in DAY_NAMES.items()},
        time_zone_options=time_zone_options(time_zones()),
        tokens=tokens,
        new_token=new_token,
        sessions=web_sessions.listed(user.person_id),
        scopes=[s for s in SCOPES if s in scopes_of_role(user.role)],
        scope_labels=SCOPE_LABELS,
        token_days=(TOKEN_DAYS_DEFAULT, TOKEN_DAYS_MAX),
        user=user,
        calendar_url=calendar_url(),
        language=chosen_language(user),
    ), status


@lru_cache(maxsize=4)
def time_zone_options(zones: frozenset[str]) -> Markup:
    """The working hours' time-zone suggestions (``<option>`` for each zone, by name): six
    hundred escaped values, written once per set of zones the installation knows."""
    return Markup("".join(f'<option value="{escape(zone)}">' for zone in sorted(zones)))


def calendar_url() -> str | None:
    """The calendar connect page, once its blueprint is installed."""
    try:
        return url_for("calendar.index")
    except Exception:  # werkzeug BuildError: no calendar blueprint in this build
        return "/calendar"


@bp.get("/account")
def account() -> Any:
    return render_account(new_token=shown_once.take("new_token"))


@bp.post("/account/password")
def change_password() -> Any:
    state = FormState()
    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    if not current:
        state.errors["current_password"] = [gettext("Enter your current password.")]
    if new != request.form.get("confirm_password", ""):
        state.errors["confirm_password"] = [gettext("The two new passwords differ.")]
    if state.errors:
        return render_account(state, 422)
    user = me()
    wait = PASSWORD.wait(str(user.person_id))
    if wait:
        state.errors["current_password"] = [too_many_passwords(wait)]
        page, status = render_account(state, 429)
        return page, status, {"Retry-After": str(wait)}
    ok = password_matches(user, current)
    PASSWORD.record(str(user.person_id), ok)
    if not ok:
        state.errors["current_password"] = [gettext("That is not your current password.")]
        return render_account(state, 422)
    try:
        resources().organization.set_password(user.actor(), new)
    except InvalidInput as err:
        state.errors["new_password"] = err.errors.get("password", [err.detail])
        return render_account(state, 422)
    # Every session and token made before the change has ended, this one too: carry on in a
    # new session (the device that knew the password is the one to trust).
    web_sessions.reissue(user.tenant_id, user.person_id)
    return redirect(url_for("portal.account", password=1))


def chosen_language(user: Any) -> str:
    """The person's own language ("" when automatic; read once a request with the
    locale's selection)."""
    chosen, _ = request_language_settings(user.tenant_id, user.person_id)
    return chosen or ""


def too_many_passwords(wait: int) -> str:
    return ngettext(
        "Too many wrong passwords: try again in %(num)d second.",
        "Too many wrong passwords: try again in %(num)d seconds.",
        wait,
    )


@bp.post("/account/language")
def change_language() -> Any:
    """Read Compound in this language from now on ("" : the browser's), a ``LanguageChosen``
    event; the next page is already in it."""
    try:
        choose_language(resources().store, me().actor(), request.form.get("locale", ""))
    except InvalidInput as err:
        return render_account(FormState(errors=err.errors), 422)
    refresh_locale()
    return redirect(url_for("portal.account", language=1))


@bp.post("/account/working-hours")
def change_working_hours() -> Any:
    """Set my working hours and time zone (from this week on): time pressure measures my
    meetings against them."""
    body, state = form_input(HOURS_FORM, lists=("working_days",))
    state.values["working_days"] = request.form.getlist("working_days")
    state.values["hours_form"] = True
    if body is None:
        return render_account(state, 422)
    try:
        set_working_hours(resources().store, me().actor(), **body)
    except InvalidInput as err:
        state.errors = err.errors
        return render_account(state, 422)
    return redirect(url_for("portal.account", hours=1))


@bp.post("/account/tokens")
def create_token() -> Any:
    body, state = form_input(TOKEN_FORM, integers=("expires_in_days",), lists=("scopes",))
    state.values["scopes"] = request.form.getlist("scopes")
    if body is None:
        return render_account(state, 422)
    try:
        _, token = resources().organization.create_token(
            me().actor(), body["name"], scopes=body["scopes"], days=body["expires_in_days"]
        )
    except InvalidInput as err:
        state.errors = err.errors
        return render_account(state, 422)
    # Post-redirect-get: a refresh of the next page creates nothing; the token is shown by
    # that page once (never in a URL, never stored in plaintext).
    shown_once.keep("new_token", token)
    return redirect(url_for("portal.account", _anchor="tok-title"))


@bp.post("/account/tokens/<uuid:token_id>/revoke")
def revoke_token(token_id: uuid.UUID) -> Any:
    try:
        resources().organization.revoke_token(me().actor(), token_id)
    except DomainError as err:
        return render_account(refused(FormState(), err), err.status)
    return redirect(url_for("portal.account", revoked=1))


@bp.post("/account/sessions/<uuid:session_id>/end")
def end_session(session_id: uuid.UUID) -> Any:
    """Log out a session elsewhere (or this one: then to the login page)."""
    user = me()
    if session_id == user.session_id:
        end_session_here()
        return redirect(url_for("auth.login"))
    if not web_sessions.revoke(user.person_id, session_id):
        return render_account(
            refused(FormState(), NotFound(gettext("That session has ended."))), 404
        )
    return redirect(url_for("portal.account", ended=1))


@bp.post("/account/sessions/end-all")
def end_all_sessions() -> Any:
    """Log out everywhere: every session and token ends, this one too."""
    resources().organization.sign_out_everywhere(me().actor())
    end_session_here()
    return redirect(url_for("auth.login"))


# -- my data ---------------------------------------------------------------------------------


@bp.get("/data")
def my_data() -> Any:
    return render_template("portal/data.html", state=FormState(), phrase=gettext(ERASE_PHRASE))


@bp.get("/data/export.<any(json, csv):fmt>")
def export(fmt: str) -> Response:
    user = me()
    document = personal_data.export_document(resources().store, user.actor())
    if fmt == "csv":
        body, mimetype = personal_data.as_csv(document), "text/csv"
    else:
        body, mimetype = personal_data.as_json(document), "application/json"
    activity.exported(resources().store, user.actor(), "personal_data", fmt)
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="compound-{stamp}.{fmt}"'},
    )


@bp.post("/data/erase")
def erase() -> Any:
    typed = request.form.get("confirm", "").strip().lower()
    if typed not in {ERASE_PHRASE, gettext(ERASE_PHRASE).lower()}:
        phrase = gettext(ERASE_PHRASE)
        state = FormState(
            values=dict(request.form),
            errors={"confirm": [gettext("Type “%(phrase)s” to confirm.", phrase=phrase)]},
        )
        return render_template("portal/data.html", state=state, phrase=phrase), 422
    user = me()
    resources().organization.erase(user.actor(), user.person_id)
    end_session_here()
    return redirect(url_for("portal.erased"))


@bp.get("/erased")
def erased() -> Any:
    """Shown after erasure, logged out (no login needed)."""
    return render_template("portal/erased.html")
