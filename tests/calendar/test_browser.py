"""Connecting a calendar in a real browser (the system Chromium through Playwright): the
/calendar page, the provider's consent page, the redirect back, and "needs reconnect"."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.browser.conftest import CHROMIUM_ARGS, SCREENSHOTS, chromium_path  # noqa: F401
from tests.calendar.conftest import PROVIDER_PASSWORD, CalendarWorld

pytestmark = pytest.mark.integration
WHO = "payments-5"


def connect_in_chromium(world: CalendarWorld, chromium: Path) -> set[str]:
    """The scenario; returns the hosts the browser loaded anything from."""
    from playwright.sync_api import sync_playwright

    hosts: set[str] = set()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
            page.goto(f"{world.gateway_url}/login")
            page.fill("input[name=email]", world.org.emails[WHO])
            page.fill("input[name=password]", world.org.password)
            page.click("button[type=submit]")
            page.goto(f"{world.gateway_url}/calendar")
            page.click("text=Connect calendar")

            assert page.url.startswith(f"{world.provider_url}/oauth/authorize")
            page.fill("#email", world.org.emails[WHO])
            page.fill("#password", "wrong password")
            page.click("text=Allow")
            error = page.locator("#form-error").inner_text()
            assert error == "Wrong e-mail address or password."
            assert page.get_attribute("#email", "aria-invalid") == "true"
            page.fill("#password", PROVIDER_PASSWORD)
            page.click("text=Allow")

            page.wait_for_url(f"{world.gateway_url}/calendar")
            assert page.locator('[data-status="connected"]').is_visible()
            assert "connected" in page.locator("p.notice[role=status]").inner_text()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "calendar.png"), full_page=True)

            email = world.org.emails[WHO]
            revoke = f"{world.provider_url}/admin/accounts/{email}/grants/revoke"
            assert requests.post(revoke, headers=world.admin, timeout=10).ok
            connection = world.connections().of_person(world.org.people[WHO])["local"]
            assert world.sync_service().sync(connection.id).status == "needs_reconnect"
            page.reload()
            assert page.locator('[data-status="needs-reconnect"]').is_visible()
            assert page.locator("button", has_text="Reconnect").is_visible()
        finally:
            browser.close()
    return hosts


def test_connect_in_a_browser_then_see_needs_reconnect(
    world: CalendarWorld,
    chromium_path: Path,  # noqa: F811
):
    world.register(WHO)
    # A thread of its own: Playwright's sync API refuses to start where another sync
    # Playwright (the browser tests' session fixture) already runs its loop.
    with ThreadPoolExecutor(1) as pool:
        hosts = pool.submit(connect_in_chromium, world, chromium_path).result(timeout=120)
    allowed = {world.gateway_url.split("/")[2], world.provider_url.split("/")[2]}
    assert hosts <= allowed  # nothing loaded from other hosts
