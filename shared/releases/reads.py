"""Reads of releases: what managers see of a team's weeks and the organisation's.

Only published releases leave the server: a week without one (the open week, or a closed
week not yet released) shows every figure hidden with the reason ``not_released``. A
release reads the same every time: its figures, its k and its noise were fixed when it was
published. Trends and nudges are computed from released figures only (post-processing);
a nudge cites only figures whose noise is small (:data:`NUDGE_MAX_MARGIN`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

import orjson
from sqlalchemy import Connection, text

from shared.domain.levers import ITEMS, LEVER_NAMES, MODEL_VERSION
from shared.domain.nudges import manager_nudges
from shared.domain.releases import COMPONENTS
from shared.domain.weeks import week_label

NOT_RELEASED = "not_released"


class Release(NamedTuple):
    """A stored release: the k it was published with and its JSON."""

    k: int
    release: dict[str, Any]


Teams = Literal["all", "last", "none"]
"""Which weeks of the organisation's top-level teams a read returns."""
NUDGE_MAX_MARGIN = 20.0
"""A nudge cites a figure only when its 90% margin is at most this: noise does not nudge."""


def _hidden(reason: str) -> dict[str, Any]:
    return {"value": None, "n": None, "suppressed": True, "margin": None, "reason": reason}


def unreleased_week(week: int) -> dict[str, Any]:
    """A week without a release, as a page or the API shows it.

    Parameters:
        week: the week index.

    Returns:
        Every figure hidden, with the reason ``not_released``.
    """
    components: dict[str, Any] = {"people": None, "suppressed": True, "reason": NOT_RELEASED}
    for name in COMPONENTS:
        components[name] = components[f"{name}_margin"] = None
    return {
        "week": week_label(week),
        "released": False,
        "k": None,
        "members": None,
        "levers": {
            name: {**_hidden(NOT_RELEASED), "parts": [], "trend": None} for name in LEVER_NAMES
        },
        "pulse_items": {item: _hidden(NOT_RELEASED) for item in ITEMS},
        "time_pressure_components": components,
        "reward_confirmation": _hidden(NOT_RELEASED),
        "nudges": [],
    }


def _with_trends(levers: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """Each released lever with its trend against the week before (both shown, else None)."""
    out = {}
    for name, cell in levers.items():
        old = previous.get(name)
        trend = None
        if not cell["suppressed"] and old is not None and not old["suppressed"]:
            digits = 2 if name == "micro_advancement_rate" else 1
            trend = round(cell["value"] - old["value"], digits)
        out[name] = {**cell, "trend": trend}
    return out


def _week_out(
    week: int, row: Any, before: Any | None, blank: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    if row is None:
        hidden = blank.get(week)
        if hidden is None:
            hidden = blank[week] = unreleased_week(week)
        return hidden
    release = dict(row.release)
    release.pop("figures", None)
    # A release published before rewards were confirmed has no such figure.
    release.setdefault("reward_confirmation", _hidden("no_data"))
    previous = before.release["levers"] if before is not None else {}
    levers = _with_trends(release["levers"], previous)
    components = release["time_pressure_components"]
    precise = {
        name: cell
        if cell["margin"] is None or cell["margin"] <= NUDGE_MAX_MARGIN
        else {**cell, "suppressed": True}
        for name, cell in levers.items()
    }
    share_margin = components.get("meeting_share_margin")
    if share_margin is not None and share_margin > NUDGE_MAX_MARGIN:
        components = {**components, "meeting_share": None}
    return {
        **release,
        "week": week_label(week),
        "released": True,
        "k": row.k,
        "levers": levers,
        "nudges": manager_nudges(precise, components),
    }


def release_rows(
    conn: Connection, tenant_id: Any, nodes: list[Any], first: int, last: int
) -> dict[tuple[str, int], Any]:
    """The releases of ``nodes`` from the week before ``first`` to ``last``.

    Parameters:
        conn: a connection.
        tenant_id: the organisation (rows of another are never returned).
        nodes: team ids (and the tenant id for the organisation's).
        first, last: week indexes.

    Returns:
        (node id as text, week index) -> its :class:`Release`.
    """
    rows = conn.execute(
        text(
            "SELECT tenant_id, node_id, week_index, k, release::text FROM lever_releases"
            " WHERE node_id = ANY(:nodes) AND week_index BETWEEN :first AND :last"
        ),
        {"nodes": [uuid.UUID(str(n)) for n in nodes], "first": first - 1, "last": last},
    ).all()
    tenant = uuid.UUID(str(tenant_id))
    # The release as text, parsed by orjson: several times faster than the driver's json
    # for an organisation's 12,000 releases.
    return {
        (str(node), week): Release(k, orjson.loads(release))
        for tenant_of, node, week, k, release in rows
        if tenant_of == tenant
    }


def node_weeks(
    rows: Mapping[tuple[str, int], Any],
    node: Any,
    first: int,
    last: int,
    blank: dict[int, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """One node's weeks from its releases.

    Parameters:
        rows: as :func:`release_rows` returns.
        node: the node.
        first, last: week indexes.
        blank: week index -> its unreleased week, shared by the nodes of one read (an
            organisation's view of 1,000 teams has 12,000 of them, most alike): the weeks
            returned are for reading, not changing.

    Returns:
        One week per index, released or not.
    """
    key = str(node)
    shared = {} if blank is None else blank
    return [
        _week_out(w, rows.get((key, w)), rows.get((key, w - 1)), shared)
        for w in range(first, last + 1)
    ]


def read_team_releases(
    conn: Connection, tenant_id: Any, team_id: Any, first: int, last: int, k: int
) -> dict[str, Any]:
    """A team's released weeks and each direct sub-team's.

    Parameters:
        conn: a connection.
        tenant_id: the organisation.
        team_id: the team.
        first, last: week indexes.
        k: the organisation's k now (each week carries the k of its release).

    Returns:
        ``team_id``, ``name``, ``k``, ``model_version``, ``weeks`` and ``sub_teams``.
    """
    teams = conn.execute(
        text(
            "SELECT id, name, parent_team_id FROM teams WHERE tenant_id = :t"
            " AND (id = :team OR parent_team_id = :team) ORDER BY name, id"
        ),
        {"t": tenant_id, "team": team_id},
    ).all()
    names = {str(row.id): row.name for row in teams}
    subs = [str(row.id) for row in teams if str(row.id) != str(team_id)]
    rows = release_rows(conn, tenant_id, [team_id, *subs], first, last)
    blank: dict[int, dict[str, Any]] = {}
    return {
        "team_id": str(team_id),
        "name": names.get(str(team_id)),
        "k": k,
        "model_version": MODEL_VERSION,
        "weeks": node_weeks(rows, team_id, first, last, blank),
        "sub_teams": [
            {"team_id": sub, "name": names[sub], "weeks": node_weeks(rows, sub, first, last, blank)}
            for sub in subs
        ],
    }


def read_org_releases(
    conn: Connection, tenant_id: Any, first: int, last: int, k: int, teams: Teams = "all"
) -> dict[str, Any]:
    """The organisation's released weeks and each top-level team's.

    A page reads only what it shows: an overview the teams' levers of its one week
    (``teams="last"``), a lever detail no team (``"none"``); with a thousand top-level teams
    reading every team's whole releases for every week takes seconds.

    Parameters:
        conn: a connection.
        tenant_id: the organisation.
        first, last: week indexes.
        k: the organisation's k now.
        teams: ``"all"`` (every week of every team, what the API answers), ``"last"`` (each
            team's levers of the week ``last`` only, with their trends) or ``"none"``.

    Returns:
        ``k``, ``model_version``, ``weeks`` and ``teams``.
    """
    if teams != "all":
        rows = release_rows(conn, tenant_id, [tenant_id], first, last)
        return {
            "k": k,
            "model_version": MODEL_VERSION,
            "weeks": node_weeks(rows, tenant_id, first, last),
            "teams": _last_week_of_teams(conn, tenant_id, last) if teams == "last" else [],
        }
    top = _top_teams(conn, tenant_id)
    rows = release_rows(conn, tenant_id, [tenant_id, *(t.id for t in top)], first, last)
    blank: dict[int, dict[str, Any]] = {}
    return {
        "k": k,
        "model_version": MODEL_VERSION,
        "weeks": node_weeks(rows, tenant_id, first, last, blank),
        "teams": [
            {
                "team_id": str(t.id),
                "name": t.name,
                "weeks": node_weeks(rows, t.id, first, last, blank),
            }
            for t in top
        ],
    }


def _top_teams(conn: Connection, tenant_id: Any) -> list[Any]:
    return list(
        conn.execute(
            text(
                "SELECT id, name FROM teams WHERE tenant_id = :t AND parent_team_id IS NULL"
                " ORDER BY name, id"
            ),
            {"t": tenant_id},
        ).all()
    )


def _last_week_of_teams(conn: Connection, tenant_id: Any, last: int) -> list[dict[str, Any]]:
    """Each top-level team with one week, ``last``: its released levers and their trends
    (only the levers are read from each release: a heat table shows nothing else)."""
    rows = conn.execute(
        text(
            "SELECT r.node_id, r.week_index, (r.release->'levers')::text AS levers"
            " FROM lever_releases r JOIN teams t ON t.id = r.node_id"
            " WHERE t.tenant_id = :t AND t.parent_team_id IS NULL AND r.tenant_id = :t"
            " AND r.week_index BETWEEN :before AND :last"
        ),
        {"t": tenant_id, "before": last - 1, "last": last},
    ).all()
    # As text, parsed by orjson (as release_rows): the driver's json parsing of 1,000 teams'
    # levers was a third of the page.
    levers = {(str(r.node_id), r.week_index): orjson.loads(r.levers or "null") for r in rows}
    out = []
    for team in _top_teams(conn, tenant_id):
        shown = levers.get((str(team.id), last))
        if shown is None:
            week = unreleased_week(last)
        else:
            before = levers.get((str(team.id), last - 1)) or {}
            week = {"week": week_label(last), "released": True}
            week["levers"] = _with_trends(shown, before)
        out.append({"team_id": str(team.id), "name": team.name, "weeks": [week]})
    return out
