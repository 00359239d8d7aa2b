"""Lever formulas (model version 1)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.domain import levers
from shared.eventlog.events import PULSE_ITEMS

ALL_AGREE = {item: 7 for item in levers.SAFETY_ITEMS}


def test_reverse_scored_items():
    # Agreeing with "mistakes are held against you" is the least safe answer.
    assert levers.safety_scale(ALL_AGREE) == (7 * 4 + 1 * 3) / 7
    safest = {
        **ALL_AGREE,
        "ps1_mistakes_held_against": 1,
        "ps3_reject_different": 1,
        "ps5_hard_to_ask_help": 1,
    }
    assert levers.safety_scale(safest) == 7.0


def test_psychological_safety_blends_survey_and_behaviour():
    safest = {i: (1 if i in levers.REVERSED else 7) for i in levers.SAFETY_ITEMS}
    lever = levers.psychological_safety([safest] * 5, members=5, stretchers=5, askers=5)
    assert lever == levers.Lever(100.0, 5)
    quiet = levers.psychological_safety([safest] * 5, members=5, stretchers=0, askers=0)
    assert quiet == levers.Lever(70.0, 5)
    assert levers.psychological_safety([], 5, 1, 1) == levers.Lever(None, 0)


def test_time_pressure_rises_with_meetings_and_workload():
    calm = levers.MeetingLoad(40, 4, 20, 0, 0)
    busy = levers.MeetingLoad(40, 30, 0, 6, 15)
    relaxed = [{"workload": 7}]
    overloaded = [{"workload": 1}]
    assert (
        levers.time_pressure([calm], relaxed).value < levers.time_pressure([busy], overloaded).value
    )
    assert levers.time_pressure([], overloaded) == levers.Lever(100.0, 1)


def test_clear_incentives_and_participation():
    lever = levers.clear_incentives(10, 4, 6, [{"incentives": 7}] * 6)
    assert lever == levers.Lever(70.0, 6)
    assert levers.participation(8, 6) == levers.Lever(75.0, 8)
    assert levers.participation(0, 0) == levers.Lever(None, 0)


@given(
    st.lists(
        st.fixed_dictionaries({i: st.integers(1, 7) for i in PULSE_ITEMS}), min_size=1, max_size=20
    ),
    st.integers(1, 20),
    st.integers(0, 20),
    st.integers(0, 20),
)
def test_levers_stay_within_0_and_100(responses, members, stretchers, askers):
    for lever in (
        levers.psychological_safety(responses, members, stretchers, askers),
        levers.item_lever(responses, "evaluation_clarity", reverse=True),
        levers.time_pressure([], responses),
        levers.clear_incentives(0, 0, 0, responses),
    ):
        assert lever.value is not None and 0 <= lever.value <= 100
        assert lever.n == len(responses)
