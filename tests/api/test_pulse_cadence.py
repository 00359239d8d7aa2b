"""The organisation's pulse cadence: one anonymous answer per person and team per period."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from shared.domain.weeks import next_pulse_period, pulse_period
from shared.eventlog import EventStore
from tests.api.conftest import assert_problem, bearer
from tests.conftest import make_org

ANSWERS = {"workload": 4, "ps4_safe_to_take_risk": 6}


@pytest.mark.parametrize(
    ("week", "cadence", "period", "following"),
    [
        ("2026-W47", 1, "2026-W47", "2026-W48"),
        ("2026-W47", 2, "2026-W46", "2026-W48"),
        ("2026-W47", 4, "2026-W44", "2026-W48"),
        ("2026-W53", 2, "2026-W52", "2027-W01"),  # a period runs on across the year's end
        ("2027-W01", 4, "2026-W52", "2027-W03"),
    ],
)
def test_periods_are_blocks_of_weeks_shared_by_every_team(
    week: str, cadence: int, period: str, following: str
):
    assert pulse_period(week, cadence) == period
    assert next_pulse_period(week, cadence) == following


def test_a_fortnightly_pulse_takes_one_answer_per_fortnight(client: FlaskClient, store: EventStore):
    org = make_org(store, people_per_team=1)  # its own organisation: the cadence is org-wide
    admin = bearer(store, org, org.admin)
    person = bearer(store, org, org.people["platform-1"])
    changed = client.put(
        "/api/v1/org/settings", headers=admin, json={"k": 5, "pulse_cadence_weeks": 2}
    )
    assert changed.status_code == 200, changed.get_json()

    first = client.post(
        "/api/v1/pulse", headers=person, json={"answers": ANSWERS, "week": "2026-W46"}
    )
    assert first.status_code == 201, first.get_json()
    second = client.post(  # W47 is the same fortnight as W46
        "/api/v1/pulse", headers=person, json={"answers": ANSWERS, "week": "2026-W47"}
    )
    problem = assert_problem(second, 409)
    assert "every 2 weeks" in problem["detail"] and "2026-W48" in problem["detail"]
    assert store.read_stream(f"pulse-{org.teams['platform']}-2026-W47") == []  # nothing written
    third = client.post(  # a new fortnight opens in W48
        "/api/v1/pulse", headers=person, json={"answers": ANSWERS, "week": "2026-W48"}
    )
    assert third.status_code == 201, third.get_json()

    weekly = client.put(
        "/api/v1/org/settings", headers=admin, json={"k": 5, "pulse_cadence_weeks": 1}
    )
    assert weekly.status_code == 200
    fourth = client.post(  # weekly again: W47 is a period of its own
        "/api/v1/pulse", headers=person, json={"answers": ANSWERS, "week": "2026-W47"}
    )
    assert fourth.status_code == 201, fourth.get_json()
