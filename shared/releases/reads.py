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
from typing import Any

from sqlalchemy import Connection, text

from shared.domain.levers import ITEMS, LEVER_NAMES, MODEL_VERSION
from shared.domain.nudges import manager_nudges
from shared.domain.releases import COMPONENTS
from shared.domain.weeks import week_label

NOT_RELEASED = "not_released"
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


def _week_out(week: int, row: Any, before: Any | None) -> dict[str, Any]:
    if row is None:
        return unreleased_week(week)
    release = dict(row.release)
    release.pop("figures", None)
    # A release published before rewards were confirmed has no such figure.
    release.setdefault("reward_confirmation", _hidden("no_data"))
    previous = before.release["levers"] if before is not None else {}
    levers = {}
    for name, cell in release["levers"].items():
        old = previous.get(name)
        trend = None
        if not cell["suppressed"] and old is not None and not old["suppressed"]:
            digits = 2 if name == "micro_advancement_rate" else 1
            trend = round(cell["value"] - old["value"], digits)
        levers[name] = {**cell, "trend": trend}
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
        (node id as text, week index) -> row (``k``, ``release``).
    """
    rows = conn.execute(
        text(
            "SELECT tenant_id, node_id, week_index, k, release FROM lever_releases"
            " WHERE node_id = ANY(:nodes) AND week_index BETWEEN :first AND :last"
        ),
        {"nodes": [uuid.UUID(str(n)) for n in nodes], "first": first - 1, "last": last},
    ).all()
    tenant = uuid.UUID(str(tenant_id))
    return {(str(r.node_id), r.week_index): r for r in rows if r.tenant_id == tenant}


def node_weeks(
    rows: Mapping[tuple[str, int], Any], node: Any, first: int, last: int
) -> list[dict[str, Any]]:
    """One node's weeks from its releases.

    Parameters:
        rows: as :func:`release_rows` returns.
        node: the node.
        first, last: week indexes.

    Returns:
        One week per index, released or not.
    """
    key = str(node)
    return [
        _week_out(w, rows.get((key, w)), rows.get((key, w - 1))) for w in range(first, last + 1)
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
    return {
        "team_id": str(team_id),
        "name": names.get(str(team_id)),
        "k": k,
        "model_version": MODEL_VERSION,
        "weeks": node_weeks(rows, team_id, first, last),
        "sub_teams": [
            {"team_id": sub, "name": names[sub], "weeks": node_weeks(rows, sub, first, last)}
            for sub in subs
        ],
    }


def read_org_releases(
    conn: Connection, tenant_id: Any, first: int, last: int, k: int
) -> dict[str, Any]:
    """The organisation's released weeks and each top-level team's.

    Parameters:
        conn: a connection.
        tenant_id: the organisation.
        first, last: week indexes.
        k: the organisation's k now.

    Returns:
        ``k``, ``model_version``, ``weeks`` and ``teams``.
    """
    teams = conn.execute(
        text(
            "SELECT id, name FROM teams WHERE tenant_id = :t AND parent_team_id IS NULL"
            " ORDER BY name, id"
        ),
        {"t": tenant_id},
    ).all()
    rows = release_rows(conn, tenant_id, [tenant_id, *(t.id for t in teams)], first, last)
    return {
        "k": k,
        "model_version": MODEL_VERSION,
        "weeks": node_weeks(rows, tenant_id, first, last),
        "teams": [
            {"team_id": str(t.id), "name": t.name, "weeks": node_weeks(rows, t.id, first, last)}
            for t in teams
        ],
    }
