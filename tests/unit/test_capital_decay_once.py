"""Capital scoring decays a history once: :func:`scoring.decayed` (each day's decay computed
once) and :func:`capital_insights.next_actions` (the weeks before the current one decayed
once for all 31 scorings) give exactly what the straightforward versions gave (copied here
as they were), on generated histories with leave, proof, reciprocity and outcomes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain import capital_insights as insights
from shared.domain import scoring
from shared.domain.scoring import Absence, ActionFact, Contribution, OutcomeFact
from shared.domain.tactics import AUDIENCES, OUTCOME_KINDS, TACTICS
from shared.domain.weeks import week_index

TODAY = date(2026, 3, 25)  # a Wednesday: the current week has days before and after
FIRST = TODAY - timedelta(weeks=14)


def reference_decayed(
    parts: list[scoring.Undecayed], clock: scoring.ActiveDays, as_of: date
) -> list[Contribution]:
    result: list[Contribution] = []
    one_way: list[int] = []
    for p in parts:
        if p.day > as_of:
            continue
        scale = scoring.decay(clock.age(p.day, as_of), p.half_life)
        if p.one_way:
            one_way.append(len(result))
        units = (p.units[0] * scale, p.units[1] * scale, p.units[2] * scale)
        result.append(Contribution(p.kind, p.ref, p.label, p.week, p.confirmed, units))
    pooled = sum(result[i].units[2] for i in one_way)
    if pooled > 0:
        factor = scoring.soft_cap(pooled, scoring.ONE_WAY_CAP) / pooled
        for i in one_way:
            c = result[i]
            units = (c.units[0], c.units[1], c.units[2] * factor)
            result[i] = Contribution(c.kind, c.ref, c.label, c.week, c.confirmed, units)
    return result


def reference_next_actions(
    actions: list[ActionFact], outcomes: list[OutcomeFact], absences: list[Absence], today: date
) -> dict[str, dict[str, Any]]:
    week, clock = week_index(today), scoring.ActiveDays(absences)
    current = [a for a in actions if week_index(a.day) == week]
    others = scoring.undecayed([a for a in actions if week_index(a.day) != week], outcomes, today)

    def scored(this_week: list[ActionFact]) -> dict[str, float]:
        parts = others + scoring.undecayed(this_week, (), today)
        return scoring.scores_of(reference_decayed(parts, clock, today)).as_dict()

    base = scored(current)
    best: dict[str, dict[str, Any]] = {}
    for tactic in sorted(TACTICS):
        plain = ActionFact(
            today, tactic, insights.NEXT_ACTION_MINUTES, insights.NEXT_ACTION_AUDIENCE
        )
        gained = scored([*current, plain])
        proven = scored([*current, replace(plain, confirmed=True)])
        for dimension in scoring.DIMENSIONS:
            gain = round(gained[dimension] - base[dimension], 1)
            if_confirmed = round(proven[dimension] - base[dimension], 1)
            leading = best.get(dimension)
            if leading is None or if_confirmed > leading["gain_if_confirmed"]:
                best[dimension] = {
                    "tactic": tactic,
                    "example": TACTICS[tactic].examples[0],
                    "gain": gain,
                    "gain_if_confirmed": if_confirmed,
                }
    return best


days = st.integers(0, (TODAY - FIRST).days + 3).map(lambda d: FIRST + timedelta(days=d))
actions = st.lists(
    st.builds(
        ActionFact,
        days,
        st.sampled_from(sorted(TACTICS)),
        st.integers(1, 480),
        st.sampled_from(AUDIENCES),
        st.booleans(),
        st.booleans(),
        st.text("abc", max_size=3),
    ),
    max_size=60,
)
outcomes = st.lists(
    st.builds(OutcomeFact, days, st.sampled_from(OUTCOME_KINDS), st.booleans()), max_size=12
)
absences = st.lists(
    st.tuples(days, st.integers(0, 12)).map(lambda t: Absence(t[0], t[0] + timedelta(days=t[1]))),
    max_size=3,
)


@settings(max_examples=150, deadline=None)
@given(actions, outcomes, absences, st.integers(0, 14))
def test_decayed_is_the_straightforward_decay(acts, outs, away, back):
    as_of = TODAY - timedelta(days=back)
    parts = scoring.undecayed(acts, outs, TODAY)
    clock = scoring.ActiveDays(away)
    assert scoring.decayed(parts, clock, as_of) == reference_decayed(parts, clock, as_of)


@settings(max_examples=100, deadline=None)
@given(actions, outcomes, absences)
def test_next_actions_are_the_straightforward_ones(acts, outs, away):
    assert insights.next_actions(acts, outs, away, TODAY) == reference_next_actions(
        acts, outs, away, TODAY
    )
