"""The account page's working-hours field set: the defaults shown, a change saved (one
``WorkingHoursSet`` on the person's stream), bad input re-rendered with 422 and the messages
next to their fields, and the CSRF token required (real PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from shared.eventlog import EventStore
from tests.portal.conftest import Member

pytestmark = pytest.mark.integration
GOOD = {"start": "07:30", "end": "15:30", "working_days": ["mon", "tue", "wed", "sat"],
        "time_zone": "America/New_York"}  # fmt: skip


def written(store: EventStore, m: Member) -> list[dict[str, Any]]:
    """The ``WorkingHoursSet`` events of the member, as the store reads them back (stored
    sealed)."""
    return [e.data for e in store.read_stream(f"person-{m.id}") if e.type == "WorkingHoursSet"]


def value_of(page: str, name: str) -> str:
    found = re.search(rf'<input id="{name}" name="{name}" [^>]*value="([^"]*)"', page)
    assert found, name
    return found.group(1)


def checked_days(page: str) -> list[str]:
    return re.findall(r'name="working_days" value="(\w+)" checked', page)


def test_defaults_shown_then_a_change_saved(member: Callable[..., Member], store: EventStore):
    m = member()
    page = m.page("/account")
    assert "Working hours" in page
    assert (value_of(page, "start"), value_of(page, "end")) == ("09:00", "17:00")
    assert value_of(page, "time_zone") == "UTC"
    assert checked_days(page) == ["mon", "tue", "wed", "thu", "fri"]
    assert '<option value="Europe/Berlin">' in page  # the zones to pick from, no script
    response = m.post("/account/working-hours", GOOD)
    assert response.status_code == 302 and "hours=1" in response.headers["Location"]
    page = m.page("/account?hours=1")
    assert "Working hours saved" in page
    assert (value_of(page, "start"), value_of(page, "end")) == ("07:30", "15:30")
    assert value_of(page, "time_zone") == "America/New_York"
    assert checked_days(page) == ["mon", "tue", "wed", "sat"]
    assert written(store, m) == [
        {"person_id": str(m.id), "start_minute": 450, "end_minute": 930,
         "working_days": ["mon", "tue", "wed", "sat"], "time_zone": "America/New_York"}
    ]  # fmt: skip


def test_bad_input_shows_messages_next_to_fields_and_writes_nothing(
    member: Callable[..., Member], store: EventStore
):
    m = member()
    bad = {"start": "18:00", "end": "08:00", "time_zone": "Atlantis/Capital"}  # no day ticked
    response = m.post("/account/working-hours", bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field, message in [
        ("end", "The end must be after the start"),
        ("working_days", "Choose at least one working day."),
        ("time_zone", "Give an IANA time zone"),
    ]:
        assert re.search(rf'<p class="error" id="{field}-error">{message}', page), field
    assert 'id="time_zone" name="time_zone"' in page and 'aria-invalid="true"' in page
    # What was typed is shown again, to correct it.
    assert value_of(page, "start") == "18:00" and value_of(page, "time_zone") == "Atlantis/Capital"
    assert checked_days(page) == []
    assert written(store, m) == []


def test_the_form_needs_the_csrf_token(member: Callable[..., Member], store: EventStore):
    m = member()
    response = m.client.post("/account/working-hours", data=GOOD)
    assert response.status_code == 400
    assert written(store, m) == []
