"""Person capital's reads: model 2's scores as of a day, computed at read time from the
person's contributions and absences (:mod:`shared.domain.scoring`), each explained by every
contribution (the largest, and an "others" line); and the latest actions or outcomes."""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, text

from shared.domain import capital_insights as insights
from shared.domain import scoring
from shared.domain.scoring import Absence, ActionFact, OutcomeFact
from shared.domain.weeks import week_index, week_label, week_monday


def read_capital(
    conn: Connection, tenant_id: Any, person_id: Any, as_of: date, history_weeks: int = 12
) -> dict[str, Any]:
    """The person's capital at the end of the day ``as_of``.

    Parameters:
        conn: a connection.
        tenant_id, person_id: whose capital.
        as_of: the last day scored (later contributions are left out).
        history_weeks: how many weeks of score history, ending with that week.

    Returns:
        Scores (each with its self-reported and confirmed points and its explanation:
        every contribution's share), weekly history, leave periods, signal vs substance,
        rotation, consistency, tactic conversion, flags, the weeks since the last
        relationship deposit and the next action that would raise each score the most.
    """
    return score_capital(capital_rows(conn, tenant_id, person_id, as_of), as_of, history_weeks)


@dataclass(frozen=True)
class CapitalRows:
    """What :func:`read_capital` reads of the person's capital (its scoring's only input
    besides the day): the contributions up to the day's week, the colleagues who deposited
    back, the absences."""

    contributions: Sequence[Row[Any]]
    reciprocated_by: set[Any]
    absences: list[Absence]

    def digest(self) -> bytes:
        """A digest of the rows' values: equal for equal rows (a different value, a row
        more or less, another order: another digest)."""
        values = (
            [tuple(r) for r in self.contributions],
            sorted(self.reciprocated_by),
            [(a.starts_on, a.ends_on) for a in self.absences],
        )
        return hashlib.blake2b(pickle.dumps(values, pickle.HIGHEST_PROTOCOL)).digest()


def capital_rows(conn: Connection, tenant_id: Any, person_id: Any, as_of: date) -> CapitalRows:
    """The person's rows :func:`score_capital` scores as of the day ``as_of``."""
    contributions = contributions_until(conn, tenant_id, person_id, week_index(as_of))
    reciprocated_by = reciprocators(conn, tenant_id, person_id)
    return CapitalRows(contributions, reciprocated_by, absences_of(conn, tenant_id, person_id))


def score_capital(rows: CapitalRows, as_of: date, history_weeks: int = 12) -> dict[str, Any]:
    """:func:`read_capital`'s answer from the rows it read (a function of them and the day
    alone)."""
    current = week_index(as_of)
    contributions, absences = rows.contributions, rows.absences
    actions, outcomes = facts(contributions, rows.reciprocated_by)
    clock = scoring.ActiveDays(absences)
    base = scoring.undecayed(actions, outcomes, as_of)  # once: each week decays it
    parts = scoring.decayed(base, clock, as_of)
    scores = scoring.scores_of(parts).as_dict()
    explained = insights.explanation(parts)
    first = max(current - history_weeks + 1, week_index(date.min))
    history = []
    for w in range(first, current + 1):
        end = min(as_of, week_monday(w) + timedelta(days=6))
        values = scoring.scores_of(scoring.decayed(base, clock, end)).as_dict()
        history.append({"week": week_label(w), **values})
    signal = insights.signal_vs_substance(parts, current)
    return {
        "model_version": scoring.MODEL_VERSION,
        "week": week_label(current),
        "scores": {name: score(value, explained[name]) for name, value in scores.items()},
        "history": history,
        "leave": [
            {"starts_on": a.starts_on.isoformat(), "ends_on": a.ends_on.isoformat()}
            for a in absences
            if a.ends_on >= week_monday(first)  # and those ahead, declared already
        ],
        "signal_vs_substance": signal,
        "rotation": insights.rotation_balance(actions, current),
        "consistency": insights.consistency(actions, absences, current),
        "tactic_conversion": tactic_conversion(contributions),
        "flags": ["all_signal_no_substance"] if signal["all_signal"] else [],
        "weeks_since_relationship_deposit": weeks_since_deposit(contributions, current),
        "next_action": insights.next_actions(actions, outcomes, absences, as_of),
    }


def score(value: float, explained: dict[str, Any]) -> dict[str, Any]:
    """One dimension's answer: its value, the confirmed and self-reported points of it, and
    every contribution's share (the largest listed, the rest as ``others``)."""
    confirmed = insights.confirmed_part(value, explained["self_reported"], explained["confirmed"])
    return {
        "value": value,
        "confirmed": confirmed,
        "self_reported": round(value - confirmed, 1),
        "explanation": explained["contributions"],
        "others": explained["others"],
    }


def contributions_until(
    conn: Connection, tenant_id: Any, person_id: Any, current: int
) -> Sequence[Row[Any]]:
    """The person's contributions up to week ``current`` (kind, ref_id, tactic,
    outcome_kind, week_index, occurred_at, minutes, audience, counterpart_id, confirmed)."""
    return conn.execute(
        text(
            "SELECT kind, ref_id, tactic, outcome_kind, week_index, occurred_at, minutes, "
            "audience, counterpart_id, confirmed FROM capital_contributions "
            "WHERE person_id = :p AND tenant_id = :t AND week_index <= :w"
        ),
        {"p": person_id, "t": tenant_id, "w": current},
    ).all()


def reciprocators(conn: Connection, tenant_id: Any, person_id: Any) -> set[Any]:
    """The colleagues who named the person as the counterpart of an action of theirs
    (a deposit back)."""
    rows = conn.execute(
        text(
            "SELECT DISTINCT person_id FROM capital_contributions WHERE counterpart_id = :p "
            "AND tenant_id = :t AND kind = 'action'"
        ),
        {"p": person_id, "t": tenant_id},
    )
    return {row.person_id for row in rows}


def facts(
    rows: Sequence[Row[Any]], reciprocated_by: set[Any]
) -> tuple[list[ActionFact], list[OutcomeFact]]:
    """Scoring's facts from contribution rows: a relationship action is reciprocated when its
    counterpart deposited back."""
    actions, outcomes = [], []
    for r in rows:
        day = r.occurred_at.astimezone(UTC).date()
        if r.kind == "action":
            back = r.counterpart_id is not None and r.counterpart_id in reciprocated_by
            actions.append(ActionFact(day, r.tactic, r.minutes or 0, r.audience or "team",
                                      r.confirmed, back, str(r.ref_id)))  # fmt: skip
        else:
            outcomes.append(OutcomeFact(day, r.outcome_kind, r.confirmed, str(r.ref_id)))
    return actions, outcomes


def absences_of(conn: Connection, tenant_id: Any, person_id: Any) -> list[Absence]:
    """The person's declared absences, earliest first."""
    rows = conn.execute(
        text(
            "SELECT starts_on, ends_on FROM capital_absences WHERE person_id = :p "
            "AND tenant_id = :t ORDER BY starts_on, ends_on"
        ),
        {"p": person_id, "t": tenant_id},
    )
    return [Absence(r.starts_on, r.ends_on) for r in rows]


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
