"""The ``figures`` fixture of tests/reliability (the security tests' rows of the page), and
the API tests' fixtures of people and organisations."""

from __future__ import annotations

import pytest

from tests.api.conftest import headers_of, new_person, other_org
from tests.browser.conftest import browser, chromium_path, live_app, live_server
from tests.reliability.report import FIGURES, Figures, write_page

__all__ = [
    "browser",
    "chromium_path",
    "headers_of",
    "live_app",
    "live_server",
    "new_person",
    "other_org",
]


@pytest.fixture
def figures() -> Figures:
    return FIGURES


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    write_page()
