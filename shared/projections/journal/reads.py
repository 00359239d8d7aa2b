"""The journal's reads: a person's experiments, feedback loop and weekly plan, from the
rows of shared/projections/journal/ (personal text is fetched from the log by position)."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from typing import Any

from sqlalchemy import Connection, text

from shared.projections.journal.experiment_state import BEFORE_WEEKS, SIGNALS, direction


def read_experiments(conn: Connection, tenant_id: Any, person_id: Any) -> list[dict[str, Any]]:
    """The person's experiments, the latest start first, each compared with the 4 weeks
    before it."""
    rows = conn.execute(
        text(
            "SELECT * FROM experiments WHERE tenant_id = :t AND person_id = :p "
            "AND starts_on IS NOT NULL ORDER BY starts_on DESC, started_position DESC"
        ),
        {"t": tenant_id, "p": person_id},
    ).mappings()
    return [
        {
            "experiment_id": row["experiment_id"],
            "tactic": row["tactic"],
            "starts_on": row["starts_on"],
            "weeks": row["weeks"],
            "ends_on": row["ends_on"],
            "ended_at": row["ended_at"],
            "status": row["status"],
            "started_position": row["started_position"],
            "ended_position": row["ended_position"],
            "comparison": {
                "before": {
                    "starts_on": row["starts_on"] - timedelta(weeks=BEFORE_WEEKS),
                    "ends_on": row["starts_on"],
                },
                "during": {"starts_on": row["starts_on"], "ends_on": row["ends_on"]},
                **{
                    s: {
                        "before": row[f"before_{s}"],
                        "during": row[f"during_{s}"],
                        "difference": row[f"{s}_difference"],
                        "direction": row[f"{s}_direction"],
                    }
                    for s in SIGNALS
                },
            },
        }
        for row in rows
    ]


def read_like_for_like(
    conn: Connection, tenant_id: Any, person_id: Any, experiments: list[dict[str, Any]], today: date
) -> dict[Any, dict[str, Any]]:
    """Each experiment's signals over the whole days it has run so far against as many days
    just before it: day 0 compares nothing, day 10 ten days with ten days.

    The days run from ``starts_on`` to the earliest of ``today``, ``ends_on`` and the day it
    was ended (that day and today are not whole yet, so not counted).

    Parameters:
        conn: a connection.
        tenant_id, person_id: whose experiments.
        experiments: the person's experiments (:func:`read_experiments`).
        today: the current UTC day.

    Returns:
        Experiment id -> ``days`` (the whole days compared), ``before`` and ``during`` (each
        ``starts_on``, ``ends_on`` exclusive, and a count per signal of :data:`SIGNALS`),
        and per signal its ``difference`` and ``direction``.
    """
    windows = {}
    for x in experiments:
        stop = min(today, x["ends_on"])
        if x["ended_at"] is not None:
            stop = min(stop, x["ended_at"].astimezone(UTC).date())
        windows[x["experiment_id"]] = (x["starts_on"], max(0, (stop - x["starts_on"]).days))
    spans = [
        (start - timedelta(days=n), start + timedelta(days=n)) for start, n in windows.values()
    ]
    days: dict[date, tuple[int, ...]] = {}
    if any(n for _, n in windows.values()):
        rows = conn.execute(
            text(
                f"SELECT day, {', '.join(SIGNALS)} FROM experiment_signals "
                "WHERE tenant_id = :t AND person_id = :p AND day >= :first AND day < :last"
            ),
            {
                "t": tenant_id,
                "p": person_id,
                "first": min(first for first, _ in spans),
                "last": max(last for _, last in spans),
            },
        )
        days = {row[0]: tuple(row[1:]) for row in rows}
    return {experiment: _compared(start, n, days) for experiment, (start, n) in windows.items()}


def _compared(start: date, n: int, days: dict[date, tuple[int, ...]]) -> dict[str, Any]:
    before_from, during_to = start - timedelta(days=n), start + timedelta(days=n)
    before = [
        sum(c[i] for d, c in days.items() if before_from <= d < start)
        for i, _ in enumerate(SIGNALS)
    ]
    during = [
        sum(c[i] for d, c in days.items() if start <= d < during_to) for i, _ in enumerate(SIGNALS)
    ]
    return {
        "days": n,
        "before": {"starts_on": before_from, "ends_on": start},
        "during": {"starts_on": start, "ends_on": during_to},
        **{
            s: {
                "before": b,
                "during": d,
                "difference": d - b,
                "direction": direction(b, d),
            }
            for s, b, d in zip(SIGNALS, before, during, strict=True)
        },
    }


def read_feedback(
    conn: Connection, tenant_id: Any, person_id: Any, limit: int = 100
) -> dict[str, Any]:
    """The person's feedback loop: totals, rates and the latest ``limit`` requests (with the
    position of each request's event, to fetch its question from the log)."""
    summary = conn.execute(
        text(
            "SELECT requests, answers, useful, response_rate, usefulness_rate "
            "FROM feedback_people WHERE tenant_id = :t AND person_id = :p"
        ),
        {"t": tenant_id, "p": person_id},
    ).first()
    rows = conn.execute(
        text(
            "SELECT request_id, action_id, asked_at, expires_at, answered_at, useful, "
            "asked_position FROM feedback_requests WHERE tenant_id = :t AND person_id = :p "
            "AND asked_position IS NOT NULL ORDER BY asked_at DESC, asked_position DESC "
            "LIMIT :limit"
        ),
        {"t": tenant_id, "p": person_id, "limit": limit},
    ).mappings()

    def rate(value: Any) -> float | None:
        return None if value is None else float(value)

    return {
        "requests": summary.requests if summary else 0,
        "answers": summary.answers if summary else 0,
        "useful": summary.useful if summary else 0,
        "response_rate": rate(summary.response_rate) if summary else None,
        "usefulness_rate": rate(summary.usefulness_rate) if summary else None,
        "items": [dict(row) for row in rows],
    }


def read_plan(conn: Connection, tenant_id: Any, person_id: Any, week: str) -> dict[str, Any]:
    """The person's plan for an ISO week and its progress; an empty plan when none was set.

    ``plan_position`` is the plan's event (for its labels, in the log), ``actions`` the
    week's actions per tactic, planned or not.
    """
    params = {"t": tenant_id, "p": person_id, "w": week}
    plan = conn.execute(
        text(
            "SELECT tactics, done, planned, done_count, plan_position FROM plan_weeks "
            "WHERE tenant_id = :t AND person_id = :p AND week = :w"
        ),
        params,
    ).first()
    actions = {
        row.tactic: row.actions
        for row in conn.execute(
            text(
                "SELECT tactic, actions FROM plan_actions WHERE tenant_id = :t "
                "AND person_id = :p AND week = :w ORDER BY tactic"
            ),
            params,
        )
    }
    items = (
        [{"tactic": t, "done": d} for t, d in zip(plan.tactics, plan.done, strict=True)]
        if plan
        else []
    )
    return {
        "week": week,
        "planned": plan.planned if plan else 0,
        "done": plan.done_count if plan else 0,
        "items": items,
        "actions": actions,
        "plan_position": plan.plan_position if plan else None,
    }
