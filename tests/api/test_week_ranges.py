"""Bounded requested ranges (issue 18, bounded work): a levers read asks for at most 104
weeks, each end inside the organisation's span; beyond either, 422 naming ``from`` or ``to``,
answered at once (the far-off weeks are never walked). Real PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from shared.domain.weeks import iso_week_of
from tests.api.conftest import Headers, assert_problem
from tests.conftest import DemoOrg

pytestmark = pytest.mark.integration


def week(weeks_from_now: int) -> str:
    return iso_week_of(datetime.now(UTC) + timedelta(weeks=weeks_from_now))


@pytest.fixture
def admin(headers_of: Callable[[str], Headers]) -> Headers:
    return headers_of("admin")


@pytest.fixture(params=["team", "org"])
def levers(request: pytest.FixtureRequest, org: DemoOrg) -> str:
    if request.param == "team":
        return f"/api/v1/teams/{org.teams['platform']}/levers"
    return "/api/v1/org/levers"


def test_104_weeks_are_read_105_are_refused(client: FlaskClient, admin: Headers, levers: str):
    ok = client.get(levers, query_string={"from": week(-103), "to": week(0)}, headers=admin)
    assert ok.status_code == 200, ok.get_json()
    assert len(ok.get_json()["weeks"]) == 104
    too_many = client.get(levers, query_string={"from": week(-104), "to": week(0)}, headers=admin)
    problem = assert_problem(too_many, 422, "from")
    assert "104" in problem["errors"]["from"][0]


@pytest.mark.parametrize(
    ("asked", "named"),
    [
        ({"from": "9998-W01", "to": "9999-W52"}, ("from", "to")),
        ({"to": "9999-W52"}, ("to",)),
        ({"from": "0001-W01", "to": "0002-W52"}, ("from", "to")),
        ({"from": "2099-W01", "to": "2099-W52"}, ("from", "to")),
        ({"from": "2000-W01"}, ("from",)),
        ({"to": week(2)}, ("to",)),
    ],
)
def test_weeks_outside_the_span_are_refused_at_once(
    client: FlaskClient,
    admin: Headers,
    levers: str,
    asked: dict[str, str],
    named: tuple[str, ...],
):
    started = time.monotonic()
    response = client.get(levers, query_string=asked, headers=admin)
    assert_problem(response, 422, *named)
    assert time.monotonic() - started < 2


def test_without_from_the_weeks_start_inside_the_span(
    client: FlaskClient, admin: Headers, levers: str
):
    """Twelve weeks by default, fewer when ``to`` lies near the span's start (creation minus
    two years)."""
    assert len(client.get(levers, headers=admin).get_json()["weeks"]) == 12
    early = iso_week_of(datetime.now(UTC) - timedelta(days=725))
    response = client.get(levers, query_string={"to": early}, headers=admin)
    assert response.status_code == 200, response.get_json()
    assert 0 < len(response.get_json()["weeks"]) < 12
