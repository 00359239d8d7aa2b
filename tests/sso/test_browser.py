"""The whole OpenID Connect journey in a real browser (the system Chromium) against the
local provider: the work e-mail on the login page, the provider's sign-in page, the portal,
and logging out of both."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import browser, chromium_path  # noqa: F401 (fixtures)
from tests.sso.conftest import PROVIDER_PASSWORD, SsoWorld

pytestmark = pytest.mark.integration


def test_sign_in_with_sso_then_log_out_of_both(browser: Any, sso_world: SsoWorld) -> None:  # noqa: F811
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    base, email = sso_world.gateway_url, sso_world.email("grace")

    def console(message: Any) -> None:  # the gateway's pages only (the provider's 401 is its own)
        if message.type == "error" and str(message.location.get("url", "")).startswith(base):
            errors.append(message.text)

    page.on("console", console)

    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_role("button", name="Log in").click()  # no password: to the provider
    expect(page.get_by_role("heading", name="Local identity provider")).to_be_visible()
    assert page.url.startswith(f"{sso_world.provider_url}/oidc/authorize?")
    expect(page.get_by_label("E-mail address")).to_have_value(email)  # the login hint
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail address or password.")
    page.get_by_label("Password").fill(PROVIDER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("button", name="Log out", exact=True)).to_be_visible()
    assert page.url.startswith(base) and "/login" not in page.url
    page.goto(f"{base}/account")
    expect(page.get_by_text(email)).to_be_visible()

    page.get_by_role("button", name="Log out", exact=True).click()  # RP-initiated logout
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert page.url.startswith(f"{base}/login")
    page.goto(f"{base}/account")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.goto(f"{base}/login")  # the provider's session ended too: it asks again
    page.get_by_label("E-mail").fill(email)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert errors == []
    context.close()
