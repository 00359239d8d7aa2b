"""Person capital's reads: scores as of a week, decayed at read time
(:mod:`shared.domain.scoring`), each explained by its largest contributions; and the latest
actions or outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Row, text

from shared.domain import scoring
from shared.domain.weeks import week_index, week_label
from shared.projections.capital.state import MICRO

EXPLAINED = 10
"""Contributions listed in each score's explanation, the largest first."""


def read_capital(
    conn: Connection, tenant_id: Any, person_id: Any, as_of: date, history_weeks: int = 12
) -> dict[str, Any]:
    """The person's capital as of the ISO week of ``as_of``.

    Parameters:
        conn: a connection.
        tenant_id, person_id: whose capital.
        as_of: a day of the week to read (later weeks are left out).
        history_weeks: how many weeks of score history, ending with that week.

    Returns:
        Scores (each with its explanation: its largest contributions), weekly history,
        signal vs substance, rotation, consistency, tactic conversion, flags and the weeks
        since the last relationship deposit.
    """
    current = week_index(as_of)
    weeks = weekly_totals(conn, tenant_id, person_id, current)
    contributions = contributions_until(conn, tenant_id, person_id, current)
    scores = scoring.scores_at(weeks, current)
    explanation = explain(contributions, current)
    history = [
        {"week": week_label(w), **scoring.scores_at(weeks, w).as_dict()}
        for w in range(current - history_weeks + 1, current + 1)
    ]
    signal = scoring.signal_vs_substance(weeks, current)
    return {
        "model_version": scoring.MODEL_VERSION,
        "week": week_label(current),
        "scores": {
            name: {"value": value, "explanation": explanation[name]}
            for name, value in scores.as_dict().items()
        },
        "history": history,
        "signal_vs_substance": signal,
        "rotation": scoring.rotation_balance(weeks, current),
        "consistency": scoring.consistency(weeks, current),
        "tactic_conversion": tactic_conversion(contributions),
        "flags": ["all_signal_no_substance"] if signal["all_signal"] else [],
        "weeks_since_relationship_deposit": weeks_since_deposit(contributions, current),
    }


def weekly_totals(
    conn: Connection, tenant_id: Any, person_id: Any, current: int
) -> list[scoring.WeekTotals]:
    """The person's weeks up to week ``current``, oldest first, in scoring's units.

    Returns:
        One :class:`shared.domain.scoring.WeekTotals` per stored week.
    """
    rows = conn.execute(
        text(
            "SELECT week_index, inv_c, inv_v, inv_r, ret_c, ret_v, ret_r, actions, "
            "visible_actions FROM capital_weeks WHERE person_id = :p AND tenant_id = :t "
            "AND week_index <= :w ORDER BY week_index"
        ),
        {"p": person_id, "t": tenant_id, "w": current},
    ).all()
    return [
        scoring.WeekTotals(
            r.week_index,
            (r.inv_c / MICRO, r.inv_v / MICRO, r.inv_r / MICRO),  # stored in millionths
            (r.ret_c / MICRO, r.ret_v / MICRO, r.ret_r / MICRO),
            r.actions,
            r.visible_actions,
        )
        for r in rows
    ]


def contributions_until(
    conn: Connection, tenant_id: Any, person_id: Any, current: int
) -> Sequence[Row[Any]]:
    """The person's contributions up to week ``current`` (kind, ref_id, tactic,
    outcome_kind, week_index, occurred_at, c, v, r)."""
    return conn.execute(
        text(
            "SELECT kind, ref_id, tactic, outcome_kind, week_index, occurred_at, c, v, r "
            "FROM capital_contributions WHERE person_id = :p AND tenant_id = :t "
            "AND week_index <= :w"
        ),
        {"p": person_id, "t": tenant_id, "w": current},
    ).all()


def explain(contributions: Sequence[Row[Any]], current: int) -> dict[str, list[dict[str, Any]]]:
    """Each dimension's largest contributions as of week ``current``, decayed and weighted
    as the score weighs them.

    Returns:
        Dimension -> up to :data:`EXPLAINED` contributions (kind, id, tactic, outcome,
        occurred_at, share of the dimension), the largest first.
    """
    explanation: dict[str, list[dict[str, Any]]] = {}
    for d, dimension in enumerate(scoring.DIMENSIONS):
        weighted = []
        for c in contributions:
            raw = (c.c, c.v, c.r)[d] / MICRO
            if raw > 0:
                weight, half_life = _weighing(c.kind)
                value = raw * weight * scoring.decay(current - c.week_index, half_life)
                weighted.append((value, c))
        total = sum(v for v, _ in weighted) or 1.0
        weighted.sort(key=lambda vc: (-vc[0], vc[1].occurred_at))
        explanation[dimension] = [
            {
                "kind": c.kind,
                "id": str(c.ref_id),
                "tactic": c.tactic,
                "outcome": c.outcome_kind,
                "occurred_at": c.occurred_at.isoformat(),
                "share": round(v / total, 3),
            }
            for v, c in weighted[:EXPLAINED]
        ]
    return explanation


def _weighing(kind: str) -> tuple[float, int]:
    """The weight and half-life of an action's (investment) or outcome's (returns)
    contribution, as the score weighs them."""
    if kind == "action":
        return 1.0, scoring.INVESTMENT_HALF_LIFE_WEEKS
    return scoring.RETURNS_WEIGHT, scoring.RETURNS_HALF_LIFE_WEEKS


def tactic_conversion(contributions: Sequence[Row[Any]]) -> dict[str, dict[str, float]]:
    """Per tactic: its actions, the outcomes credited to it and their rate (outcomes per
    action, 0.0 without actions)."""
    conversion: dict[str, dict[str, float]] = {}
    for c in contributions:
        if c.tactic is None:
            continue
        entry = conversion.setdefault(c.tactic, {"actions": 0, "outcomes": 0})
        entry["actions" if c.kind == "action" else "outcomes"] += 1
    for entry in conversion.values():
        entry["rate"] = round(entry["outcomes"] / entry["actions"], 2) if entry["actions"] else 0.0
    return conversion


def weeks_since_deposit(contributions: Sequence[Row[Any]], current: int) -> int | None:
    """Weeks from the last ``relationship_deposit`` action to week ``current`` (None
    without one)."""
    last = max(
        (
            c.week_index
            for c in contributions
            if c.kind == "action" and c.tactic == "relationship_deposit"
        ),
        default=None,
    )
    return None if last is None else current - last


def read_recent(
    conn: Connection,
    tenant_id: Any,
    person_id: Any,
    kind: str,
    since: datetime | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The person's latest actions or outcomes, newest first.

    Parameters:
        conn: a connection.
        tenant_id, person_id: whose contributions.
        kind: ``"action"`` or ``"outcome"``.
        since: the earliest event time (all when None).
        limit: at most this many.

    Returns:
        Rows of ref_id, tactic, outcome_kind, occurred_at and the position of the event
        (its personal text is read from the log, decrypted).
    """
    rows = conn.execute(
        text(
            "SELECT ref_id, tactic, outcome_kind, occurred_at, position "
            "FROM capital_contributions WHERE person_id = :p AND tenant_id = :t AND kind = :k "
            "AND occurred_at >= :since ORDER BY occurred_at DESC, position DESC LIMIT :n"
        ),
        {
            "p": person_id,
            "t": tenant_id,
            "k": kind,
            "since": since or datetime(1970, 1, 1, tzinfo=UTC),
            "n": limit,
        },
    ).mappings()
    return [dict(row) for row in rows]
