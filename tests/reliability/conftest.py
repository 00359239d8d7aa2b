"""The ``figures`` fixture (tests/reliability/report.py) and the page it writes."""

from __future__ import annotations

import pytest

from tests.reliability.report import FIGURES, Figures, write_page


@pytest.fixture
def figures() -> Figures:
    return FIGURES


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    write_page()
