"""The scoring model's formulas and the worked example of docs/scoring.md."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain import scoring
from shared.domain.nudges import employee_nudges
from shared.domain.tactics import AUDIENCES, TACTICS

SUMMARY = scoring.investment("regular_signaling", 15, "decision_makers")


def ada(with_invitation: bool) -> list[scoring.WeekTotals]:
    weeks = [scoring.WeekTotals(w, SUMMARY, (0, 0, 0), 1, 1) for w in (0, 2, 4, 6)]
    if with_invitation:
        weeks.append(scoring.WeekTotals(6, (0, 0, 0), scoring.evidence("invitation")))
    return weeks


def test_worked_example_of_the_docs():
    assert [round(x, 2) for x in SUMMARY] == [0.32, 1.9, 0.32]
    assert scoring.scores_at(ada(False), 6) == scoring.Scores(2.5, 13.8, 2.5)
    assert scoring.signal_vs_substance(ada(False), 6) == {"ratio": 6.0, "all_signal": True}
    assert scoring.scores_at(ada(True), 6) == scoring.Scores(6.0, 25.8, 9.5)
    assert scoring.signal_vs_substance(ada(True), 6)["all_signal"] is False
    assert scoring.scores_at(ada(True), 14) == scoring.Scores(4.2, 17.8, 7.0)


def test_effort_saturates():
    assert [round(scoring.effort(m), 2) for m in (5, 15, 60)] == [0.28, 0.63, 0.98]
    assert scoring.effort(480) < 1.0 and scoring.effort(0) == 0.0


@given(
    st.sampled_from(sorted(TACTICS)),
    st.integers(1, 480),
    st.sampled_from(AUDIENCES),
    st.integers(0, 200),
)
def test_scores_stay_within_0_and_100_and_decay(
    tactic: str, minutes: int, audience: str, later: int
):
    week = scoring.WeekTotals(0, scoring.investment(tactic, minutes, audience), (0, 0, 0), 1)
    now, then = scoring.scores_at([week] * 50, 0), scoring.scores_at([week] * 50, later)
    for a, b in zip(now.as_dict().values(), then.as_dict().values(), strict=True):
        assert 0 <= b <= a <= 100


def test_returns_weigh_more_than_investment():
    assert scoring.capital(0, 10) > scoring.capital(10, 0)


def test_consistency_counts_weeks_and_streak():
    weeks = [scoring.WeekTotals(w, (1, 0, 0), (0, 0, 0), 1) for w in (1, 2, 4, 5, 6)]
    assert scoring.consistency(weeks, 6) == {"active_weeks": 5, "span": 12, "streak": 3}


@pytest.mark.parametrize(
    ("weeks_since", "flags", "rules"),
    [
        (None, [], {"relationship_deposit"}),
        (0, [], set()),
        (1, [], set()),
        (3, ["all_signal_no_substance"], {"relationship_deposit", "all_signal_no_substance"}),
    ],
)
def test_employee_nudges_cite_their_numbers(weeks_since, flags, rules):
    nudges = employee_nudges(
        {
            "weeks_since_relationship_deposit": weeks_since,
            "flags": flags,
            "signal_vs_substance": {"ratio": 4.0},
        }
    )
    assert {n["rule"] for n in nudges} == rules
    for n in nudges:
        assert n["because"] and n["suggestion"]
