"""Model 2's explanations: "all signal, no substance" judged on confirmed capability only,
streaks that pause for leave, every contribution with an "others" line summing to 100 %,
and the next action that would raise a score the most."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain import capital_insights as insights
from shared.domain import scoring
from shared.domain.scoring import Absence, ActionFact, OutcomeFact
from shared.domain.tactics import AUDIENCES, OUTCOME_KINDS, TACTICS
from shared.domain.weeks import week_index

MONDAY = date(2026, 1, 5)
LAST = MONDAY + timedelta(weeks=3, days=6)
SIGNALS = [
    ActionFact(MONDAY + timedelta(weeks=k, days=d), "regular_signaling", 15, "decision_makers")
    for k in range(4)
    for d in (0, 2)
]


def signal(actions: list[ActionFact], outcomes: list[OutcomeFact] = []) -> dict[str, object]:  # noqa: B006
    parts = scoring.contributions(actions, outcomes, (), LAST)
    return insights.signal_vs_substance(parts, week_index(LAST))


def test_self_reported_capability_does_not_clear_all_signal():
    own = [ActionFact(MONDAY + timedelta(days=1), "small_exposure", 30, "private")]
    claimed = [OutcomeFact(MONDAY, "new_responsibility")]
    assert signal(SIGNALS)["all_signal"] is True
    assert signal(SIGNALS + own, claimed) == {"ratio": None, "all_signal": True}


def test_confirmed_capability_clears_it():
    proven = ActionFact(LAST, "small_exposure", 30, "private", confirmed=True)
    assert signal([*SIGNALS, proven])["all_signal"] is False
    assert signal(SIGNALS, [OutcomeFact(LAST, "assignment", confirmed=True)])["all_signal"] is False


unconfirmed = st.builds(
    ActionFact,
    st.integers(0, 27).map(lambda d: MONDAY + timedelta(days=d)),
    st.sampled_from(sorted(TACTICS)),
    st.integers(1, 480),
    st.sampled_from(AUDIENCES),
)


@settings(max_examples=50, deadline=None)
@given(st.lists(unconfirmed, max_size=40), st.lists(st.sampled_from(OUTCOME_KINDS), max_size=10))
def test_only_confirmed_capability_evidence_clears_all_signal(extra, kinds):
    claimed = [OutcomeFact(MONDAY, kind) for kind in kinds]
    assert signal(SIGNALS + extra, claimed)["all_signal"] is True


def test_a_week_of_leave_neither_breaks_nor_extends_a_streak():
    weeks = [ActionFact(MONDAY + timedelta(weeks=k), "learning_bit", 10, "private")
             for k in (0, 1, 3)]  # fmt: skip
    leave = [Absence(MONDAY + timedelta(weeks=2), MONDAY + timedelta(weeks=2, days=6))]
    as_of = week_index(MONDAY) + 3
    assert insights.consistency(weeks, (), as_of)["streak"] == 1
    paused = insights.consistency(weeks, leave, as_of)
    assert (paused["streak"], paused["active_weeks"], paused["away_weeks"]) == (3, 3, 1)


@settings(max_examples=30, deadline=None)
@given(st.lists(unconfirmed, min_size=1, max_size=40))
def test_shares_and_others_sum_to_one(actions):
    parts = scoring.contributions(actions, (), (), LAST)
    for explained in insights.explanation(parts).values():
        if explained["contributions"]:
            shares = sum(c["share"] for c in explained["contributions"])
            assert shares + explained["others"]["share"] == pytest.approx(1.0, abs=1e-9)
            assert len(explained["contributions"]) <= insights.EXPLAINED


def test_the_next_action_names_a_tactic_and_what_confirming_it_adds():
    best = insights.next_actions(SIGNALS, [], [], LAST)
    assert best["capability"]["tactic"] == "small_exposure"
    assert best["capability"]["gain_if_confirmed"] >= 3 * best["capability"]["gain"] > 0
    assert best["relationships"]["tactic"] in {"network_nudge", "relationship_deposit"}
    assert best["capability"]["example"] == TACTICS["small_exposure"].examples[0]


def test_the_confirmed_part_of_a_score():
    assert insights.confirmed_part(40.0, 1.0, 3.0) == 30.0
    assert insights.confirmed_part(0.0, 0.0, 0.0) == 0.0


def test_the_worked_examples_of_docs_scoring_md():
    """The figures docs/scoring.md quotes, computed by the functions."""
    monday = date(2026, 1, 5)

    def sunday(weeks: int = 0) -> date:
        return monday + timedelta(weeks=weeks, days=6)

    def scores(actions, outcomes=(), absences=(), weeks=0):  # type: ignore[no-untyped-def]
        return scoring.scores_at(actions, outcomes, absences, sunday(weeks))

    steady = [ActionFact(monday + timedelta(weeks=k, days=k % 7), "small_exposure", 10, "team")
              for k in range(12)]  # fmt: skip
    burst = [ActionFact(monday + timedelta(weeks=11, days=k % 7), "small_exposure", 10, "team")
             for k in range(12)]  # fmt: skip
    assert scores(steady, weeks=11) == scoring.Scores(29.5, 12.2, 0.0)
    assert scores(burst, weeks=11) == scoring.Scores(10.3, 3.7, 0.0)
    six = [ActionFact(monday + timedelta(days=i), "small_exposure", 5, "private") for i in range(6)]
    hundred = [ActionFact(monday + timedelta(days=i % 7), "small_exposure", 5, "private")
               for i in range(100)]  # fmt: skip
    assert (scores(six).capability, scores(hundred).capability) == (9.8, 10.3)
    plain = ActionFact(monday, "learning_bit", 10, "team")
    assert scores([plain]).capability == 3.3
    assert (
        scores([ActionFact(monday, "learning_bit", 10, "team", confirmed=True)]).capability == 15.2
    )
    claimed = [OutcomeFact(monday, "sponsorship", ref=str(i)) for i in range(10)]
    assert scores([], claimed).relationships == 12.2
    assert scores([], [OutcomeFact(monday, "sponsorship", True)]).relationships == 22.7

    def deposits(**kw: bool) -> list[ActionFact]:
        return [ActionFact(monday + timedelta(weeks=k, days=d), "relationship_deposit", 10,
                           "team", **kw) for k in range(12) for d in (1, 3)]  # fmt: skip

    kinds: list[dict[str, bool]] = [{}, {"reciprocated": True}, {"confirmed": True}]
    assert [scores(deposits(**kw), weeks=11).relationships for kw in kinds] == [3.2, 29.8, 77.4]
    pace = [ActionFact(monday + timedelta(weeks=k, days=d), "small_exposure", 10, "team",
                       confirmed=k % 2 == 0 and d == 1)
            for k in range(12) for d in (1, 3)]  # fmt: skip
    leave = [Absence(monday + timedelta(weeks=12), monday + timedelta(weeks=20, days=-1))]
    assert scores(pace, weeks=11) == scores(pace, (), leave, 19) == scoring.Scores(65.7, 39.0, 0.0)
    assert scores(pace, weeks=19) == scoring.Scores(58.1, 31.6, 0.0)
    ada = [ActionFact(monday + timedelta(weeks=w), "regular_signaling", 15, "decision_makers")
           for w in (0, 2, 4, 6)]  # fmt: skip
    task = ActionFact(monday + timedelta(weeks=6, days=2), "small_exposure", 20, "private")
    for extra, capability, flagged in (([], 2.9, True), ([task], 8.0, True),
                                       ([replace(task, confirmed=True)], 25.9, False)):  # fmt: skip
        parts = scoring.contributions(ada + extra, (), (), sunday(6))
        assert scoring.scores_of(parts).capability == capability
        assert insights.signal_vs_substance(parts, week_index(sunday(6)))["all_signal"] is flagged
