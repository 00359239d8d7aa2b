"""The dashboard pages and their CSV exports (one builder per page feeds both)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Response, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import text

from services.gateway.api.levers import authorize_team
from services.gateway.auth import PortalUser
from services.gateway.dashboards import lever_info, views, wording
from services.gateway.dashboards.blueprint import bp
from services.gateway.resources import resources
from shared.commands import activity
from shared.commands.settings import organisation_settings
from shared.domain.errors import DomainError, InvalidInput
from shared.domain.weeks import parse_iso_week, week_index, week_label
from shared.gc_pause import collector_paused
from shared.i18n import current_locale, format_week, gettext, ngettext, use_locale
from shared.releases.publish import last_due_week
from shared.releases.reads import Teams, read_org_releases, read_team_releases

OVERVIEW_WEEKS = 12
DETAIL_WEEKS = 26
CALENDAR_WEEKS = 12
CHOOSABLE_WEEKS = 26


def me() -> PortalUser:
    user = current_user._get_current_object()
    assert isinstance(user, PortalUser)
    return user


@dataclass
class Scope:
    """A team or the organisation, with the week the page is about."""

    team_id: uuid.UUID | None
    week: int
    week_label: str
    errors: dict[str, list[str]] = field(default_factory=dict)
    choices: list[str] = field(default_factory=list)
    current: str = ""  # the open week
    due: str = ""  # the latest week due for release (the default)
    k: int = 0  # the organisation's k now

    @property
    def status(self) -> str:
        """Which week the page shows: "open" (this week), "earlier" (before the latest due
        for release) or "latest" (the latest due, or a later one released early)."""
        if self.week_label == self.current:
            return "open"
        return "earlier" if self.week_label < self.due else "latest"

    @property
    def kind(self) -> str:
        return "org" if self.team_id is None else "team"

    def url(self, endpoint: str, **values: Any) -> str:
        if self.team_id is not None:
            values["team_id"] = self.team_id
        return url_for(f"dashboards.{self.kind}_{endpoint}", week=self.week_label, **values)


def _scope(team_id: uuid.UUID | None) -> Scope:
    """The page's week from ``?week=`` (one of the last 26 ISO weeks; default the last week
    due for release). A bad week is reported next to the week field and the page shows the
    default week."""
    now = datetime.now(UTC)
    current = week_index(now.date())
    choices = [week_label(current - i) for i in range(CHOOSABLE_WEEKS)]
    asked = request.args.get("week", "").strip()
    with resources().engine.connect() as conn:
        # One read of the settings: the cadence (a period's weeks are due at its close), k.
        settings = organisation_settings(conn, me().tenant_id, resources().settings)
    grace = resources().settings.release_grace_hours
    due = max(
        current - CHOOSABLE_WEEKS + 1, last_due_week(now, grace, settings.pulse_cadence_weeks)
    )
    scope = Scope(
        team_id,
        due,
        week_label(due),
        choices=choices,
        current=choices[0],
        due=week_label(due),
        k=settings.k,
    )
    if asked and asked != scope.week_label:
        try:
            parse_iso_week(asked)
        except ValueError:
            scope.errors["week"] = [gettext("Use an ISO week such as %(week)s.", week=choices[1])]
            return scope
        if asked not in choices:
            scope.errors["week"] = [
                gettext(
                    "Choose one of the last %(count)d weeks (%(first)s to %(last)s).",
                    count=CHOOSABLE_WEEKS,
                    first=choices[-1],
                    last=choices[0],
                )
            ]
            return scope
        scope.week, scope.week_label = current - choices.index(asked), asked
    return scope


def _read(scope: Scope, weeks: int, teams: Teams = "last") -> dict[str, Any]:
    """The scope's released levers for ``weeks`` weeks up to the page's week; children are
    the sub-teams (a team) or the top-level teams (the organisation: only the page's week of
    each, or none with ``teams="none"``)."""
    user, k = me(), scope.k
    first, last = scope.week - weeks + 1, scope.week
    with resources().engine.connect() as conn:
        if scope.team_id is None:
            if user.role != "admin":
                abort(403, gettext("Only an admin can see the organisation's levers."))
            view = read_org_releases(conn, user.tenant_id, first, last, k, teams)
            view["children"] = view.pop("teams")
            view["name"] = _org_name(conn, user)
        else:
            try:
                authorize_team(conn, user, scope.team_id)
            except DomainError as err:
                abort(err.status, err.detail)
            view = read_team_releases(conn, user.tenant_id, scope.team_id, first, last, k)
            view["children"] = view.pop("sub_teams")
    return view


def _org_name(conn: Any, user: PortalUser) -> str:
    name = conn.execute(
        text("SELECT name FROM organizations WHERE id = :t"), {"t": user.tenant_id}
    ).scalar()
    return str(name or gettext("Your organisation"))


def _teams_of(user: PortalUser) -> list[dict[str, Any]]:
    """The teams the user manages, by name (the switcher)."""
    if not user.managed_teams:
        return []
    with resources().engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, name FROM teams WHERE tenant_id = :t AND id = ANY(:ids) ORDER BY name"
            ),
            {"t": user.tenant_id, "ids": list(user.managed_teams)},
        ).all()
    return [{"id": row.id, "name": row.name} for row in rows]


# -- overview --------------------------------------------------------------------------------


def _overview(scope: Scope) -> dict[str, Any]:
    # The language asked once, not for each of thousands of cells; the collector paused
    # while the organisation's thousand teams become tens of thousands of small objects
    # without cycles (scanning them was a third of the page).
    with use_locale(current_locale()), collector_paused():
        return _overview_tables(scope)


def _overview_tables(scope: Scope) -> dict[str, Any]:
    view = _read(scope, OVERVIEW_WEEKS)
    k, weeks = view["k"], view["weeks"]
    week = weeks[-1]
    # In the order the page shows them (the CSV follows it).
    tables = [views.week_table(week, k), views.history_table(weeks, k), views.nudges_table(week)]
    if view["children"]:
        first = gettext("Sub-team") if scope.team_id else gettext("Team")
        named = format_week(week["week"])
        title = (
            gettext("Sub-teams side by side, %(week)s", week=named)
            if scope.team_id
            else gettext("Teams side by side, %(week)s", week=named)
        )
        tables.append(views.heat_table("teams", title, first, view["children"], -1, k))
    return {
        "view": view,
        "k": k,
        "week": week,
        "weeks": weeks,
        "tables": {t.key: t for t in tables},
        "order": [t.key for t in tables],
        "sparklines": {lever: views.sparkline(weeks, lever) for lever in views.SHOWN},
    }


@dataclass
class UnderK:
    """Why a team's figures are hidden for too few people, said once, with what to do.

    ``size``: the team's people now (joined members, with the teams below; None for the
    organisation); ``needed``: how many more people k needs (0 when the team is big enough
    and the figures lack answers or calendars instead); ``levers``: the hidden levers."""

    size: int | None
    needed: int
    levers: list[str]
    all_hidden: bool


def _under_k(scope: Scope, week: dict[str, Any], k: int) -> UnderK | None:
    """The explanation of the figures hidden as "fewer than k people" in the page's week."""
    hidden = [
        lever
        for lever in views.SHOWN
        if week["levers"][lever]["suppressed"]
        and (week["levers"][lever].get("reason") or "fewer_than_k") == "fewer_than_k"
    ]
    if not hidden:
        return None
    size = None
    if scope.team_id is not None:
        from services.gateway.admin.reads import team_size

        with resources().engine.connect() as conn:
            size = team_size(conn, me().tenant_id, scope.team_id)
    needed = max(0, k - size) if size is not None else 0
    return UnderK(size, needed, hidden, len(hidden) == len(views.SHOWN))


def _overview_page(scope: Scope) -> Any:
    page = _overview(scope)
    page["under_k"] = _under_k(scope, page["week"], page["k"])
    status = 422 if scope.errors else 200
    return (
        render_template(
            "dashboards/overview.html",
            scope=scope,
            levers=views.LEVERS,
            words={key: lever_info.texts(key) for key in views.SHOWN},
            shown=views.SHOWN,
            hidden=wording.hidden(page["k"]),
            teams=_teams_of(me()),
            is_admin=me().role == "admin",
            **page,
        ),
        status,
    )


def _csv_scope(team_id: uuid.UUID | None) -> Scope:
    """A CSV has no field to show a message beside: a bad week is a problem+json 422."""
    scope = _scope(team_id)
    if scope.errors:
        raise InvalidInput(gettext("Invalid week."), scope.errors)
    return scope


def _csv(
    scope: Scope, title: str, page: dict[str, Any], name: str, lever: str | None = None
) -> Response:
    heading = [title, gettext("Week %(code)s", code=scope.week_label), page["privacy"]]
    body = views.as_csv(heading, [page["tables"][key] for key in page["order"]])
    export = "organisation_levers" if scope.team_id is None else "team_levers"
    activity.exported(resources().store, me().actor(), export, "csv", scope.team_id, lever)
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}-{scope.week_label}.csv"'},
    )


def privacy_line(k: int) -> str:
    """The privacy sentence of every page and CSV, with the organisation's k."""
    return ngettext(
        "Weekly releases: each figure over at least %(num)d person, with noise (± is its 90%% "
        "interval); a hidden figure says why: %(reasons)s.",
        "Weekly releases: each figure over at least %(num)d people, with noise (± is its 90%% "
        "interval); a hidden figure says why: %(reasons)s.",
        k,
        reasons=", ".join(wording.reasons(k).values()),
    )


@bp.get("/")
def index() -> Any:
    """Managers land on their (first) team; admins who manage no team on the organisation."""
    user = me()
    teams = _teams_of(user)
    if teams:
        return redirect(url_for("dashboards.team_overview", team_id=teams[0]["id"]))
    if user.role == "admin":
        return redirect(url_for("dashboards.org_overview"))
    return render_template("dashboards/no_team.html")


@bp.get("/teams/<uuid:team_id>")
def team_overview(team_id: uuid.UUID) -> Any:
    return _overview_page(_scope(team_id))


@bp.get("/org")
def org_overview() -> Any:
    return _overview_page(_scope(None))


def _overview_csv(scope: Scope) -> Response:
    page = _overview(scope)
    page["privacy"] = privacy_line(page["k"])
    title = gettext("%(name)s: lever overview", name=page["view"]["name"])
    slug = "org" if scope.team_id is None else f"team-{scope.team_id}"
    return _csv(scope, title, page, f"levers-{slug}")


@bp.get("/teams/<uuid:team_id>/export.csv")
def team_overview_csv(team_id: uuid.UUID) -> Response:
    return _overview_csv(_csv_scope(team_id))


@bp.get("/org/export.csv")
def org_overview_csv() -> Response:
    return _overview_csv(_csv_scope(None))


# -- lever detail ----------------------------------------------------------------------------


def _detail(scope: Scope, lever: str) -> dict[str, Any]:
    if lever not in views.LEVERS:
        abort(404, gettext("No such lever."))
    with use_locale(current_locale()):  # asked once, not for each cell
        return _detail_tables(scope, lever)


def _detail_tables(scope: Scope, lever: str) -> dict[str, Any]:
    view = _read(scope, DETAIL_WEEKS, teams="none")
    k, weeks = view["k"], view["weeks"]
    week = weeks[-1]
    changes = views.size_changes(weeks)
    tables = [views.lever_history_table(lever, weeks, k)]
    if lever == "psychological_safety":
        tables.append(views.items_table(week, k))
    if lever == "time_pressure":
        tables.append(views.calendar_table(weeks[-CALENDAR_WEEKS:], k))
    if lever == "clear_incentives":
        tables.append(views.rewards_table(weeks[-CALENDAR_WEEKS:], k))
    if changes:
        tables.append(views.changes_table(changes))
    return {
        "view": view,
        "k": k,
        "week": week,
        "weeks": weeks,
        "lever": lever,
        "info": views.LEVERS[lever],
        "changes": changes,
        "chart": views.chart_data(lever, weeks),
        "tables": {t.key: t for t in tables},
        "order": [t.key for t in tables],
    }


def _detail_page(scope: Scope, lever: str) -> Any:
    page = _detail(scope, lever)
    return (
        render_template(
            "dashboards/lever.html",
            scope=scope,
            levers=views.LEVERS,
            words={key: lever_info.texts(key) for key in views.SHOWN},
            shown=views.SHOWN,
            hidden=wording.hidden(page["k"]),
            teams=_teams_of(me()),
            is_admin=me().role == "admin",
            **page,
        ),
        422 if scope.errors else 200,
    )


@bp.get("/teams/<uuid:team_id>/levers/<lever>")
def team_lever(team_id: uuid.UUID, lever: str) -> Any:
    return _detail_page(_scope(team_id), lever)


@bp.get("/org/levers/<lever>")
def org_lever(lever: str) -> Any:
    return _detail_page(_scope(None), lever)


def _detail_csv(scope: Scope, lever: str) -> Response:
    page = _detail(scope, lever)
    page["privacy"] = privacy_line(page["k"])
    title = f"{page['view']['name']}: {gettext(page['info'].label)}"
    slug = "org" if scope.team_id is None else f"team-{scope.team_id}"
    return _csv(scope, title, page, f"{lever}-{slug}", lever)


@bp.get("/teams/<uuid:team_id>/levers/<lever>/export.csv")
def team_lever_csv(team_id: uuid.UUID, lever: str) -> Response:
    return _detail_csv(_csv_scope(team_id), lever)


@bp.get("/org/levers/<lever>/export.csv")
def org_lever_csv(lever: str) -> Response:
    return _detail_csv(_csv_scope(None), lever)
