"""The organisation's pulse cadence: one anonymous answer per person and team per period."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from flask.testing import FlaskClient

from shared.commands import Actor, JournalCommands
from shared.domain.errors import Conflict, InvalidInput
from shared.domain.weeks import next_pulse_period, pulse_period, week_start
from shared.eventlog import EventStore
from tests.api.conftest import bearer
from tests.conftest import TEST_SECRET, make_org

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


def wednesday(week: str) -> datetime:
    """Noon on the Wednesday of ``week``: a moment inside it to answer at."""
    return datetime.combine(week_start(week) + timedelta(days=2), time(12), UTC)


def test_a_fortnightly_pulse_takes_one_answer_per_fortnight(client: FlaskClient, store: EventStore):
    org = make_org(store, people_per_team=1)  # its own organisation: the cadence is org-wide
    admin = bearer(store, org, org.admin)
    changed = client.put(
        "/api/v1/org/settings", headers=admin, json={"k": 5, "pulse_cadence_weeks": 2}
    )
    assert changed.status_code == 200, changed.get_json()
    journal = JournalCommands(store, TEST_SECRET)
    person = Actor(tenant_id=org.tenant_id, person_id=org.people["platform-1"], source="test")

    def answer(week: str) -> object:  # answered while ``week`` is the current week
        return journal.submit_pulse(person, ANSWERS, week=week, now=wednesday(week))

    assert answer("2026-W46").week == "2026-W46"
    with pytest.raises(Conflict) as second:  # W47 is the same fortnight as W46
        answer("2026-W47")
    assert "every 2 weeks" in str(second.value) and "2026-W48" in str(second.value)
    assert store.read_stream(f"pulse-{org.teams['platform']}-2026-W47") == []  # nothing written
    assert answer("2026-W48").week == "2026-W48"  # a new fortnight opens in W48

    weekly = client.put(
        "/api/v1/org/settings", headers=admin, json={"k": 5, "pulse_cadence_weeks": 1}
    )
    assert weekly.status_code == 200
    assert answer("2026-W49").week == "2026-W49"  # weekly again: W49 is a period of its own
    with pytest.raises(InvalidInput):  # an earlier week's period has closed
        journal.submit_pulse(person, ANSWERS, week="2026-W47", now=wednesday("2026-W49"))
