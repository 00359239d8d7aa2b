"""Model 2's properties (issue #19, docs/scoring.md), each a unit test and a hypothesis
property over shared/domain/scoring.py."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain import scoring
from shared.domain.scoring import Absence, ActionFact, OutcomeFact
from shared.domain.tactics import AUDIENCES, OUTCOME_KINDS, TACTICS

MONDAY = date(2026, 1, 5)
tactics = st.sampled_from(sorted(TACTICS))
audiences = st.sampled_from(AUDIENCES)
mondays = st.builds(
    lambda weeks: date(1, 1, 1) + timedelta(weeks=weeks), st.integers(30, 52 * 9_990)
)
PROPERTY = settings(max_examples=60, deadline=None)


def sunday(monday: date, weeks: int = 0) -> date:
    """The last day of the week ``weeks`` after the one of ``monday``."""
    return monday + timedelta(weeks=weeks, days=6)


def act(day: date, tactic: str, minutes: int, audience: str = "team", **kw: bool) -> ActionFact:
    return ActionFact(day, tactic, minutes, audience, **kw)


def total(facts: list[ActionFact], as_of: date, outcomes: tuple[OutcomeFact, ...] = ()) -> float:
    return sum(scoring.scores_at(facts, outcomes, (), as_of).as_dict().values())


def units(facts: list[ActionFact], as_of: date, outcomes: tuple[OutcomeFact, ...] = ()) -> float:
    own, proven = scoring.units_of(scoring.contributions(facts, outcomes, (), as_of))
    return sum(own) + sum(proven)


# No gain from splitting


def test_twelve_5_minute_actions_invest_what_one_hour_does():
    split = [act(MONDAY, "small_exposure", 5) for _ in range(12)]
    assert units(split, sunday(MONDAY)) == pytest.approx(
        units([act(MONDAY, "small_exposure", 60)], sunday(MONDAY))
    )


@PROPERTY
@given(mondays, st.integers(0, 6), tactics, audiences, st.integers(1, 40), st.integers(1, 12))
def test_splitting_gains_nothing(monday, weekday, tactic, audience, minutes, n):
    day = monday + timedelta(days=weekday)
    week = day
    split = units([act(day, tactic, minutes, audience) for _ in range(n)], week)
    whole = units([act(day, tactic, minutes * n, audience)], week)
    assert split == pytest.approx(whole, rel=0.01)


# Steady beats bursts


def steady_and_burst(monday: date, minutes: int, burst_week: int, tactic: str):
    # reciprocated: one-way deposits fill a small pool however they are paced
    steady = [act(monday + timedelta(weeks=k, days=k % 7), tactic, minutes, reciprocated=True)
              for k in range(12)]  # fmt: skip
    burst = [act(monday + timedelta(weeks=burst_week, days=k % 7), tactic, minutes,
                 reciprocated=True)
             for k in range(12)]  # fmt: skip
    return steady, burst


def test_twelve_weekly_actions_beat_the_same_twelve_in_the_last_week():
    steady, burst = steady_and_burst(MONDAY, 10, 11, "small_exposure")
    assert total(steady, sunday(MONDAY, 11)) >= 2 * total(burst, sunday(MONDAY, 11))


@PROPERTY
@given(mondays, st.integers(1, 480), st.integers(0, 11), tactics)
def test_steady_beats_bursts(monday, minutes, burst_week, tactic):
    steady, burst = steady_and_burst(monday, minutes, burst_week, tactic)
    as_of = sunday(monday, 11)
    for d in range(3):
        s = scoring.scores_at(steady, (), (), as_of).as_dict()[scoring.DIMENSIONS[d]]
        b = scoring.scores_at(burst, (), (), as_of).as_dict()[scoring.DIMENSIONS[d]]
        assert s >= 2 * b


# Volume saturates within a week


def test_a_hundred_5_minute_exposures_are_worth_little_more_than_six():
    six = [act(MONDAY + timedelta(days=i), "small_exposure", 5, "private") for i in range(6)]
    hundred = [act(MONDAY + timedelta(days=i % 7), "small_exposure", 5, "private")
               for i in range(100)]  # fmt: skip
    assert total(hundred, sunday(MONDAY)) <= 1.2 * total(six, sunday(MONDAY))


@PROPERTY
@given(
    mondays,
    tactics,
    audiences,
    st.integers(1, 480),
    st.lists(st.integers(0, 6), min_size=100, max_size=100),
)
def test_volume_saturates_within_a_week(monday, tactic, audience, minutes, weekdays):
    six = [act(monday + timedelta(days=i), tactic, minutes, audience) for i in range(6)]
    hundred = [act(monday + timedelta(days=d), tactic, minutes, audience) for d in weekdays]
    week = sunday(monday)
    assert units(hundred, week) <= 1.2 * units(six, week)
    assert total(hundred, week) <= 1.2 * total(six, week) + 0.1  # rounding to one decimal


# Proof counts most


def test_a_confirmed_action_adds_three_times_an_unconfirmed_one():
    plain = act(MONDAY, "learning_bit", 10)
    confirmed = act(MONDAY, "learning_bit", 10, confirmed=True)
    assert units([confirmed], sunday(MONDAY)) >= 3 * units([plain], sunday(MONDAY))


@PROPERTY
@given(mondays, tactics, audiences, st.integers(1, 480), st.integers(0, 20))
def test_proof_counts_most(monday, tactic, audience, minutes, earlier):
    history = [act(monday - timedelta(weeks=1 + k), tactic, minutes, audience)
               for k in range(earlier)]  # fmt: skip
    week = sunday(monday)
    base = units(history, week)
    plain = units([*history, act(monday, tactic, minutes, audience)], week) - base
    proven = units([*history, act(monday, tactic, minutes, audience, confirmed=True)], week) - base
    assert proven >= 3 * plain


@PROPERTY
@given(mondays, st.sampled_from(OUTCOME_KINDS), st.integers(0, 6))
def test_ten_self_reported_outcomes_add_no_more_than_one_confirmed(monday, kind, weekday):
    day, week = monday + timedelta(days=weekday), sunday(monday)
    ten = tuple(OutcomeFact(day, kind, ref=str(i)) for i in range(10))
    one = (OutcomeFact(day, kind, confirmed=True),)
    assert units([], week, ten) <= units([], week, one)


# Relationships need reciprocity


def deposits(monday: date, weeks: int, **kw: bool) -> list[ActionFact]:
    return [act(monday + timedelta(weeks=k, days=d), "relationship_deposit", 10, **kw)
            for k in range(weeks) for d in (1, 3)]  # fmt: skip


def test_one_way_check_ins_saturate_low():
    one_way = scoring.scores_at(deposits(MONDAY, 12), (), (), sunday(MONDAY, 11))
    reciprocated = scoring.scores_at(
        deposits(MONDAY, 12, reciprocated=True), (), (), sunday(MONDAY, 11)
    )
    assert one_way.relationships < 5 < 25 < reciprocated.relationships


@PROPERTY
@given(mondays, st.integers(1, 52))
def test_relationships_need_reciprocity(monday, weeks):
    as_of = sunday(monday, weeks - 1)
    one_way = scoring.scores_at(deposits(monday, weeks), (), (), as_of).relationships
    reciprocated = scoring.scores_at(deposits(monday, weeks, reciprocated=True), (), (), as_of)
    confirmed = scoring.scores_at(deposits(monday, weeks, confirmed=True), (), (), as_of)
    ceiling = scoring.capital(scoring.ONE_WAY_CAP)
    assert one_way <= ceiling + 0.1 < 5
    assert reciprocated.relationships >= one_way and confirmed.relationships > one_way


# Leave pauses decay


def test_eight_weeks_of_leave_keep_capital():
    history = [act(MONDAY + timedelta(weeks=k), "small_exposure", 10, confirmed=k % 2 == 0)
               for k in range(12)]  # fmt: skip
    leave = [Absence(MONDAY + timedelta(weeks=12), MONDAY + timedelta(weeks=20, days=-1))]
    before = scoring.scores_at(history, (), (), sunday(MONDAY, 11)).as_dict()
    after = scoring.scores_at(history, (), leave, sunday(MONDAY, 19)).as_dict()
    away = scoring.scores_at(history, (), (), sunday(MONDAY, 19)).as_dict()
    for dimension, value in before.items():
        assert after[dimension] >= 0.95 * value
        assert away[dimension] < 0.95 * value or value == 0  # without the leave, it decays


@PROPERTY
@given(mondays, st.integers(0, 6), tactics, st.integers(1, 480), st.booleans())
def test_leave_pauses_decay(monday, weekday, tactic, minutes, confirmed):
    history = [act(monday + timedelta(weeks=k), tactic, minutes, confirmed=confirmed)
               for k in range(4)]  # fmt: skip
    start = monday + timedelta(weeks=4, days=weekday)
    leave = [Absence(start, start + timedelta(days=55))]
    before = scoring.scores_at(history, (), (), start - timedelta(days=1)).as_dict()
    after = scoring.scores_at(history, (), leave, start + timedelta(days=55))
    for dimension, value in before.items():
        assert after.as_dict()[dimension] >= 0.95 * value


# The seed's pace is enough


def seed_pace(monday: date, tactic: str, audience: str) -> list[ActionFact]:
    return [act(monday + timedelta(weeks=k, days=d), tactic, 10, audience,
                confirmed=k % 2 == 0 and d == 1)
            for k in range(12) for d in (1, 3)]  # fmt: skip


@PROPERTY
@given(mondays, tactics, st.sampled_from(("team", "decision_makers")))
def test_the_seed_pace_is_enough(monday, tactic, audience):
    scores = scoring.scores_at(seed_pace(monday, tactic, audience), (), (), sunday(monday, 11))
    weights = scoring.weights(tactic, audience)
    for d, dimension in enumerate(scoring.DIMENSIONS):
        if weights[d] >= 1:  # an invested dimension
            assert 35 <= scores.as_dict()[dimension] <= 70


def test_the_seed_pace_worked_example():
    scores = scoring.scores_at(
        seed_pace(MONDAY, "small_exposure", "team"), (), (), sunday(MONDAY, 11)
    )
    assert scores == scoring.Scores(65.7, 39.0, 0.0)


@given(tactics, st.integers(1, 480), audiences, st.integers(0, 200), st.integers(1, 60))
def test_scores_stay_within_0_and_100_and_decay(tactic, minutes, audience, later, n):
    facts = [act(MONDAY + timedelta(days=i % 7), tactic, minutes, audience) for i in range(n)]
    now = scoring.scores_at(facts, (), (), sunday(MONDAY)).as_dict()
    then = scoring.scores_at(facts, (), (), sunday(MONDAY, later)).as_dict()
    for dimension, value in now.items():
        assert 0 <= then[dimension] <= value <= 100


def test_year_1_and_9999_score():
    for day in (date(1, 1, 1), date(9999, 12, 31)):
        facts = [act(day, "learning_bit", 480, confirmed=True)]
        assert scoring.scores_at(facts, (), [Absence(day, day)], day).capability > 0


any_action = st.builds(
    ActionFact,
    st.integers(0, 20).map(lambda d: MONDAY + timedelta(days=d)),
    tactics,
    st.integers(1, 480),
    audiences,
    st.booleans(),
    st.booleans(),
)


@PROPERTY
@given(st.lists(any_action, max_size=30), any_action)
def test_no_action_lowers_a_score(history, extra):
    before = scoring.scores_at(history, (), (), sunday(MONDAY, 3)).as_dict()
    after = scoring.scores_at([*history, extra], (), (), sunday(MONDAY, 3)).as_dict()
    for dimension, value in before.items():
        assert after[dimension] >= value
