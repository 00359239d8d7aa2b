"""Leave in a real browser: an employee declares leave on the account page; the capital
page's chart draws it as grey bars (a dataset of its own) and the table says how many days
of each week were away."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.commands import Actor, OrganizationCommands
from shared.eventlog import EventStore
from shared.i18n import format_date
from tests.conftest import DemoOrg

pytestmark = pytest.mark.integration


def test_declared_leave_is_drawn_on_the_capital_chart(
    browser: Any, live_server: str, store: EventStore, org: DemoOrg, projector: None
):
    email = f"leave-{uuid.uuid4().hex[:8]}@demo.test"
    admin = Actor(tenant_id=org.tenant_id, person_id=org.admin, role="admin", source="test")
    commands = OrganizationCommands(store)
    invitation = commands.invite(admin, email, "employee", org.teams["platform"])
    commands.accept_invitation(org.tenant_id, invitation.person_id, "Lee", org.password)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(org.password)
    page.get_by_role("button", name="Log in").click()

    today = datetime.now(UTC).date()
    first = today - timedelta(days=today.weekday() + 14)  # the Monday two weeks ago
    page.goto(f"{live_server}/account")
    page.get_by_label("First day away").fill(first.isoformat())
    page.get_by_label("Last day away").fill((first + timedelta(days=6)).isoformat())
    page.get_by_role("button", name="Declare leave").click()
    page.get_by_text("Leave declared").wait_for()
    page.get_by_text(f"{format_date(first)} to").wait_for()

    page.goto(f"{live_server}/capital")
    page.locator("#capital-chart[data-drawn='true']").wait_for()
    labels = page.evaluate(
        "document.getElementById('capital-chart').chart.data.datasets.map(d => d.label)"
    )
    assert "On leave (share of the week)" in labels
    assert page.locator("#leave-periods").inner_text().startswith(f"On leave: {format_date(first)}")
    assert "7 of 7 days" in (page.locator("#capital-table").text_content() or "")
