"""Lever formulas (model version 1)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain import levers, nudges
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


# -- model v1 over weekly sums ---------------------------------------------------------------


def test_meeting_load_of_a_week():
    """Monday 9-10 and 10:03-11 (back to back), Tuesday 9-12 and 20-21 (after hours), and an
    overlapping Wednesday pair 13-15 / 14-16 that counts once."""
    meetings = [(9, 10), (10.05, 11), (33, 36), (44, 45), (61, 63), (62, 64)]
    load = levers.meeting_load(meetings)
    assert load.working_hours == 40
    assert load.meeting_hours == pytest.approx(1.95 + 3 + 3)
    assert load.after_hours_meeting_hours == 1
    assert load.back_to_back == 1
    # Focus: Mon 11-17 (6), Tue 12-17 (5), Wed 9-13 (4), Thu 8, Fri 8.
    assert load.focus_hours == pytest.approx(31)
    other_hours = levers.WorkingHours(start_hour=7, end_hour=15, weekdays=frozenset({0, 1, 2, 3}))
    assert levers.meeting_load([], other_hours) == levers.MeetingLoad(32, 0, 32, 0, 0)


def test_week_sums_add_up_and_give_the_levers():
    a = levers.WeekSums(members=4, active=2, actions=6, item_sum=[4] * 10, item_n=[1] * 10)
    b = levers.WeekSums(members=2, active=2, actions=2)
    total = a + b
    assert (total.members, total.active, total.actions) == (6, 4, 8)
    assert total.item_n == [1] * 10
    result = levers.levers_of(total)
    assert result["participation"] == levers.Lever(66.7, 6)
    assert result["micro_advancement_rate"] == levers.Lever(1.33, 6)
    assert result["psychological_safety"] == levers.Lever(None, 0)  # no safety items answered
    assert result["ambiguous_evaluation"] == levers.Lever(50.0, 1)  # 4 -> 50, reversed 50


def test_manager_nudges_cite_their_number_and_step_and_stop_at_three():
    def cell(value: float | None, suppressed: bool = False) -> dict[str, Any]:
        return {"value": value, "n": None if suppressed else 7, "suppressed": suppressed}

    week = {
        "time_pressure": cell(80.0),
        "psychological_safety": cell(40.0),
        "clear_incentives": cell(20.0),
        "ambiguous_evaluation": cell(70.0),
        "participation": cell(30.0),
    }
    components = {"suppressed": False, "meeting_share": 62.5}
    found = nudges.manager_nudges(week, components)
    assert len(found) == 3
    assert [n["rule"] for n in found] == [
        "protect_focus_blocks", "reward_small_visible_contributions", "start_small_together",
    ]  # fmt: skip
    # (each is 20 points past its threshold; ties keep the rules' order)
    focus = found[0]
    assert focus["value"] == 80.0 and "62.5%" in focus["because"]
    assert focus["step"] in nudges.STEPS.values() and "Time pressure" in focus["step"]
    # A hidden number never triggers a nudge.
    hidden = {name: cell(None, suppressed=True) for name in week}
    assert nudges.manager_nudges(hidden, {"suppressed": True}) == []


def test_employee_nudges_at_most_three():
    capital = {
        "weeks_since_relationship_deposit": 5,
        "flags": ["all_signal_no_substance"],
        "signal_vs_substance": {"ratio": 4.0},
        "consistency": {"active_weeks": 3, "span": 12, "streak": 0},
    }
    found = nudges.employee_nudges(capital)
    assert [n["rule"] for n in found] == [
        "all_signal_no_substance", "relationship_deposit", "steady_accumulation",
    ]  # fmt: skip
    assert all(n["step"] and n["because"] for n in found)
