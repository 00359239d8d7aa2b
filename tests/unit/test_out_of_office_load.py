"""Out-of-office time reduces the week's working hours (docs/levers.md, "What counts as a
meeting"): it is neither working time nor meeting time, and the focus time around it is
measured in what is left of each day."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain import levers


def test_a_day_out_of_office_takes_a_working_day_off():
    """Friday away (the whole day): 32 working hours, the Friday stand-up counts nowhere."""
    friday = (4 * 24, 5 * 24)
    meetings = [(9, 10), (4 * 24 + 9.5, 4 * 24 + 9.75)]
    load = levers.meeting_load(meetings, away=[friday])
    assert load.working_hours == 32
    assert load.meeting_hours == 1
    assert load.after_hours_meeting_hours == 0
    # Focus: Monday 10-17 (7) and Tuesday to Thursday (24); Friday is gone.
    assert load.focus_hours == 31


def test_part_of_a_day_away_leaves_the_rest_of_it():
    """Tuesday 13:00-17:00 away: 36 working hours; Tuesday's focus stops at 13:00 and a
    meeting from 12:00 to 14:00 counts its first hour only."""
    load = levers.meeting_load([(24 + 12, 24 + 14)], away=[(24 + 13, 24 + 17)])
    assert load.working_hours == 36
    assert load.meeting_hours == 1
    assert load.focus_hours == 3 + 8 * 4  # Tuesday 9-12, and the four other days
    assert load.after_hours_meeting_hours == 0


def test_a_block_beyond_the_week_and_overlapping_blocks_count_once():
    """A holiday from the Sunday before to the Tuesday after (hours outside 0-168), and two
    overlapping blocks on Thursday: the working hours are Wednesday's to Friday's less
    Thursday 10-14."""
    away = [(-24, 2 * 24), (3 * 24 + 10, 3 * 24 + 12), (3 * 24 + 11, 3 * 24 + 14)]
    load = levers.meeting_load([], away=away)
    assert load.working_hours == 3 * 8 - 4
    whole_week = levers.meeting_load([], away=[(-100, 300)])
    assert whole_week.working_hours == 0
    assert levers.calendar_pressure(whole_week) is None


def test_out_of_office_on_a_day_off_changes_nothing():
    hours = levers.WorkingHours(weekdays=frozenset({0, 1, 2, 3}))
    meetings = [(9, 10)]
    assert levers.meeting_load(meetings, hours, away=[(4 * 24, 5 * 24)]) == levers.meeting_load(
        meetings, hours
    )


def test_back_to_back_ignores_meetings_while_away():
    """Two back-to-back meetings on Friday while away form no chain."""
    friday = 4 * 24
    meetings = [(friday + 9, friday + 10), (friday + 10, friday + 11)]
    assert levers.meeting_load(meetings).back_to_back == 1
    assert levers.meeting_load(meetings, away=[(friday, friday + 24)]).back_to_back == 0


spans = st.lists(
    st.tuples(st.floats(-48, 216), st.floats(0, 30)).map(lambda t: (t[0], t[0] + t[1])),
    max_size=8,
)


@given(spans, spans)
def test_away_time_only_ever_lowers_working_and_meeting_hours(meetings, away):
    plain = levers.meeting_load(meetings)
    less = levers.meeting_load(meetings, away=away)
    assert less.working_hours <= plain.working_hours + 1e-9
    assert less.meeting_hours <= plain.meeting_hours + 1e-9
    assert less.after_hours_meeting_hours <= plain.after_hours_meeting_hours + 1e-9
    assert 0 <= less.meeting_hours <= less.working_hours + 1e-9
    assert less.focus_hours <= less.working_hours + 1e-9
    assert levers.meeting_load(meetings, away=[]) == plain


@pytest.mark.parametrize("away", [[(0.0, 0.0)], [(50.0, 40.0)]])
def test_empty_or_backwards_blocks_are_no_time_away(away):
    assert levers.meeting_load([(9, 10)], away=away) == levers.meeting_load([(9, 10)])
