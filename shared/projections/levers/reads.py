"""What the rest of the platform reads from the levers read model directly: a team's ancestry
(who may see a team, services/gateway/api/levers.py) and a row's sums as the domain's
(:func:`week_sums`, the unprotected figures tests compare releases against).

Managers' pages and the levers API never read lever figures here: they read the weekly
releases (shared/releases), computed, protected and noised once per week.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from shared.domain import levers as model
from shared.projections.levers.schema import MILLI, MILLI_COLUMNS, SUM_COLUMNS


def team_ancestry(conn: Connection, tenant_id: Any, team_id: Any) -> list[Any] | None:
    """The team and every team above it.

    Parameters:
        conn: a connection.
        tenant_id: the organisation.
        team_id: the team.

    Returns:
        The ids, nearest first; None if the tenant has no such team.
    """
    rows = conn.execute(
        text(
            "WITH RECURSIVE up(id, parent_team_id, depth) AS ("
            " SELECT id, parent_team_id, 0 FROM teams WHERE id = :team AND tenant_id = :tenant"
            " UNION ALL SELECT t.id, t.parent_team_id, up.depth + 1 FROM teams t"
            " JOIN up ON t.id = up.parent_team_id WHERE up.depth < 100)"
            " SELECT id FROM up ORDER BY depth"
        ),
        {"team": team_id, "tenant": tenant_id},
    ).all()
    return [row.id for row in rows] or None


def week_sums(row: Any) -> model.WeekSums:
    """A ``lever_team_weeks`` row (with its columns as attributes) as the domain's sums.

    Parameters:
        row: a row holding every column of ``SUM_COLUMNS``.

    Returns:
        The sums, thousandths turned into units.
    """
    values = {}
    for name in SUM_COLUMNS:
        value = getattr(row, name)
        values[name] = value / MILLI if name in MILLI_COLUMNS else value
    return model.WeekSums(**values)
