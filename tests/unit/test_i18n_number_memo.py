"""Decimals and percentages are remembered per language, pattern and value: the text is
Babel's for the same pattern, on a first and a repeated call, in every language, for floats,
ints, Decimals and both zeros (a remembered ``0.0`` must not answer for ``-0.0``)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.i18n import LOCALES, PSEUDO, format_decimal, format_percent, formatting, use_locale

values = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.integers(-(10**6), 10**6),
    st.sampled_from([0.0, -0.0, 0, 0.5, -0.5, 0.123, 1.0, Decimal("0.25"), Decimal("-0")]),
)


def babel(locale: str, kind: str, digits: int, value: float | Decimal) -> str:
    return formatting._number_pattern(locale, kind, digits).apply(value, formatting._babel(locale))


@pytest.mark.parametrize("locale", [*LOCALES, PSEUDO])
@settings(max_examples=60, deadline=None)
@given(value=values, digits=st.integers(0, 3))
def test_remembered_numbers_read_as_babel_writes_them(locale, value, digits):
    with use_locale(locale):
        for _ in range(2):
            assert format_decimal(value, digits) == babel(locale, "decimal", digits, value)
            assert format_percent(value, digits) == babel(locale, "percent", digits, value)


def test_a_negative_zero_is_not_answered_by_a_positive_one():
    with use_locale("en"):
        assert format_decimal(0.0) == babel("en", "decimal", 1, 0.0)
        assert format_decimal(-0.0) == babel("en", "decimal", 1, -0.0)
