"""A throttle's wait in words, with the right plural and never shorter than the wait."""

from __future__ import annotations

import pytest

from services.gateway.throttle import wait_text


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (1, "1 second"),
        (2, "2 seconds"),
        (59, "59 seconds"),
        (60, "1 minute"),
        (61, "2 minutes"),
        (900, "15 minutes"),
        (3600, "60 minutes"),
    ],
)
def test_wait_text(seconds: int, said: str) -> None:
    assert wait_text(seconds) == said
