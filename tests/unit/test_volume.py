"""The daily action limit's pure parts: the setting and which days go over."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.commands.volume import daily_action_limit
from shared.domain.volume import DEFAULT_DAILY_ACTION_LIMIT, TooManyActions, over_limit, refuse
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
