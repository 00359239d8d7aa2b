"""The daily action limit's pure parts: the setting and which days go over."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.commands.volume import daily_action_limit
from shared.domain.volume import (
    DEFAULT_DAILY_ACTION_LIMIT,
    TooManyActions,
    over_limit,
    refuse,
    week_of,
    weeks_settle,
)
from shared.settings import SettingsError

DAY = date(2026, 12, 6)


def test_the_setting_defaults_to_50_and_refuses_nonsense():
    assert daily_action_limit({}) == DEFAULT_DAILY_ACTION_LIMIT == 50
    assert daily_action_limit({"COMPOUND_DAILY_ACTION_LIMIT": "7"}) == 7
    for bad in ("0", "-3", "many"):
        with pytest.raises(SettingsError):
            daily_action_limit({"COMPOUND_DAILY_ACTION_LIMIT": bad})


def test_the_error_names_the_limit_and_the_day():
    error = refuse({("p", DAY): 51}, 50, "occurred_at")
    assert isinstance(error, TooManyActions) and error.status == 429
    assert "50 actions per person per day" in error.detail
    assert error.errors == {
        "occurred_at": ["The daily limit of 50 actions would be exceeded on 2026-12-06."]
    }


@given(st.integers(0, 120), st.integers(0, 120), st.integers(1, 100))
def test_a_day_goes_over_exactly_when_its_total_passes_the_limit(logged, adding, limit):
    over = over_limit({("p", DAY): logged}, [("p", DAY)] * adding, limit)
    assert bool(over) == (adding > 0 and logged + adding > limit)
    assert over_limit({("p", DAY): logged}, [("q", DAY)] * min(adding, limit), limit) == {}


@given(
    st.lists(st.integers(0, 20), max_size=120),  # days (from a Monday) of logged actions
    st.lists(st.integers(0, 20), min_size=1, max_size=60),  # of the new ones
    st.integers(1, 60),
)
def test_weeks_within_the_limit_settle_every_day(logged_days, new_days, limit):
    """A week within the limit never hides a day over it; and when it settles nothing, some
    day of it is at least in doubt (the week is over the limit)."""
    monday = date(2026, 11, 30)
    days = [date.fromordinal(monday.toordinal() + d) for d in logged_days]
    new = [("p", date.fromordinal(monday.toordinal() + d)) for d in new_days]
    per_day = Counter(("p", d) for d in days)
    per_week = Counter(("p", week_of(d)) for d in days)
    if weeks_settle(per_week, new, limit):
        assert over_limit(per_day, new, limit) == {}
    else:
        adding = Counter((p, week_of(d)) for p, d in new)
        assert any(per_week.get(k, 0) + n > limit for k, n in adding.items())
