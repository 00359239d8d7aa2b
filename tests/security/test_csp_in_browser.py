"""The Content-Security-Policy in a real browser: every page of the product renders with no
violation reported (no inline script, nothing from another host), the API docs included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.api.conftest import Person
from tests.conftest import DemoOrg
from tests.reliability.report import Figures

pytestmark = pytest.mark.integration

EMPLOYEE_PAGES = ["/", "/history", "/outcomes", "/capital", "/plan", "/experiments", "/feedback"]
MANAGER_PAGES = ["/dashboards/"]
ADMIN_PAGES = [
    "/admin/people",
    "/admin/invite",
    "/admin/teams",
    "/admin/settings",
    "/admin/audit",
    "/admin/integrations",
]


def visit(page: Any, base: str, path: str) -> None:
    response = page.goto(base + path)
    assert response is not None and response.status < 500, path
    page.wait_for_load_state("load")
    assert response.headers.get("content-security-policy"), path


INJECT = """() => {
    const script = document.createElement("script");
    script.textContent = "window.injected = true";
    document.body.appendChild(script);
    return window.injected === undefined;
}"""


def test_no_page_violates_the_content_security_policy(
    browser: Any,
    live_server: str,
    new_person: Callable[..., Person],
    org: DemoOrg,
    figures: Figures,
) -> None:
    person = new_person()
    context = browser.new_context()
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda m: (
            violations.append(f"{page.url}: {m.text}")
            if "Content Security Policy" in m.text
            else None
        ),
    )
    external: list[str] = []
    page.on(
        "request",
        lambda r: (
            external.append(r.url)
            if not r.url.startswith((live_server, "data:", "about:"))
            else None
        ),
    )
    visited = 0
    # The API docs: Swagger UI starts from a file (no inline script) and renders the spec.
    page.goto(live_server + "/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info", timeout=15_000)
    visited += 1
    # The listener hears a violation: an injected inline script is refused and reported.
    assert page.evaluate(INJECT) is True, "an inline script ran"
    deadline = 50
    while not violations and deadline:
        page.wait_for_timeout(100)  # the console event arrives asynchronously
        deadline -= 1
    assert len(violations) == 1, violations
    violations.clear()
    page.goto(live_server + "/login")
    page.fill("input[name=email]", person.email)
    page.fill("input[name=password]", person.password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("load")
    for path in EMPLOYEE_PAGES:
        visit(page, live_server, path)
        visited += 1
    context.close()

    context = browser.new_context()
    page = context.new_page()
    page.on(
        "console",
        lambda m: (
            violations.append(f"{page.url}: {m.text}")
            if "Content Security Policy" in m.text
            else None
        ),
    )
    page.goto(live_server + "/login")
    page.fill("input[name=email]", org.emails["platform-manager"])
    page.fill("input[name=password]", org.password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("load")
    for path in MANAGER_PAGES:
        visit(page, live_server, path)
        visited += 1
    context.close()

    context = browser.new_context()
    page = context.new_page()
    page.on(
        "console",
        lambda m: (
            violations.append(f"{page.url}: {m.text}")
            if "Content Security Policy" in m.text
            else None
        ),
    )
    page.on(
        "request",
        lambda r: (
            external.append(r.url)
            if not r.url.startswith((live_server, "data:", "about:"))
            else None
        ),
    )
    page.goto(live_server + "/login")
    page.fill("input[name=email]", org.emails["admin"])
    page.fill("input[name=password]", org.password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("load")
    for path in ADMIN_PAGES:
        visit(page, live_server, path)
        visited += 1
    context.close()

    assert not violations, violations
    assert not external, external
    figures.record(
        "csp-browser",
        "Security",
        "Chromium loads every portal, dashboard and admin page and the API docs with no "
        "Content-Security-Policy violation and no request to another host",
        "tests/security/test_csp_in_browser.py",
        pages=visited,
        violations=0,
        requests_to_other_hosts=0,
    )
