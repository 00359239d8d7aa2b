"""The lever dashboards in the system Chromium, on the demo organisation (``seed_demo`` in a
database of its own, projected, served live): Grace (manager of Platform) reaches them in one
click, the overview draws its sparklines and a lever's chart, and the CSV holds exactly the
tables on screen; Jean's Research team (3 people) shows no number anywhere, in the page or
its CSV; the admin sees the organisation; Ada, an employee, gets 403 on every dashboard URL.
Screenshots go to docs/screenshots/dashboard-*.png.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from sqlalchemy import text

from shared.domain import levers as model
from shared.projections.levers import week_sums
from tests.browser.serving import serving
from tests.dashboards.conftest import csv_matches_screen, norm
from tests.demo_database import PASSWORD, demo_database

pytestmark = pytest.mark.integration


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
HIDDEN = "fewer than 5 people"
# Every table of the page, cell by cell, as the CSV writes it (whitespace collapsed).
TABLES_JS = """() => [...document.querySelectorAll('table[data-export]')].map(t => ({
  title: t.caption.textContent.replace(/\\s+/g, ' ').trim(),
  rows: [...t.rows].map(r => [...r.cells].map(c => c.textContent.replace(/\\s+/g, ' ').trim()))
}))"""


@pytest.fixture(scope="module")
def demo(postgres_server_url: str, redis_url: str, master_key: str) -> Iterator[dict[str, Any]]:
    """The demo organisation in a database of its own (the session's database may not hold
    a second "Demo Co"), every projection caught up, served by a gateway of its own."""
    from services.gateway import create_app

    with demo_database(postgres_server_url, redis_url, master_key, "dash") as demo:
        app = create_app(
            {
                "COMPOUND_SETTINGS": demo.settings,
                "RATELIMIT_ENABLED": False,
                "RATELIMIT_KEY_PREFIX": f"dash-{uuid.uuid4().hex}",
            }
        )
        with demo.engine.connect() as conn:
            teams: dict[str, Any] = dict(
                conn.execute(
                    text("SELECT name, id FROM teams WHERE tenant_id = :t"),
                    {"t": demo.seeded.tenant_id},
                ).all()
            )
        with serving(app) as base:
            yield {"base": base, "engine": demo.engine, "teams": teams}
        app.extensions["compound"].close()


def log_in(browser: Any, base: str, email: str, viewport: dict[str, int] = DESKTOP) -> Any:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("main")).to_be_visible()
    assert "/login" not in page.url
    return page


def shot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"dashboard-{name}.png"), full_page=True)


def csv_blocks(body: str) -> tuple[str, list[dict[str, Any]]]:
    heading, *blocks = body.split("\r\n\r\n")
    tables = []
    for block in blocks:
        if block.strip():
            title, *rows = list(csv.reader(io.StringIO(block)))
            tables.append({"title": title[0], "rows": rows})
    return heading, tables


def screen_matches_csv(page: Any) -> str:
    """The page's CSV (its download link) holds exactly the tables on screen; returns it."""
    href = page.locator(".dash-toolbar a[download]").get_attribute("href")
    language = page.evaluate("navigator.languages.join(',')")  # as the browser asks
    response = page.request.get(urljoin(page.url, href), headers={"Accept-Language": language})
    assert response.status == 200 and "text/csv" in response.headers["content-type"]
    body = response.text()
    assert response.body().startswith(b"\xef\xbb\xbf")  # a byte-order mark, for Excel
    _, tables = csv_blocks(body)
    screen = page.evaluate(TABLES_JS)
    for a, b in zip(tables, screen, strict=True):
        assert norm(a["title"]) == norm(b["title"])
        csv_matches_screen(a["rows"][0], a["rows"][1:], b["rows"])
    return body


def test_a_manager_reads_the_team_overview_and_a_lever(
    browser: Any, demo: dict[str, Any], screenshots: Path
):
    from playwright.sync_api import expect

    page = log_in(browser, demo["base"], "grace@demo.test")
    page.get_by_role("link", name="Lever dashboards").click()  # one click from the landing page
    expect(page.get_by_role("heading", level=1, name="Platform")).to_be_visible()
    cards = page.locator(".lever-card")
    expect(cards).to_have_count(5)
    assert page.locator(".lever-card svg.spark polyline").count() >= 4  # sparklines drawn
    for card in cards.all():
        assert card.locator(".lever-value").inner_text().strip()
    page.get_by_text("Show these numbers as a table").click()
    body = screen_matches_csv(page)
    assert "Platform: lever overview" in body
    shot(page, screenshots, "overview")

    page.locator(".lever-card").first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Psychological safety")
    expect(page.locator("#lever-chart")).to_have_attribute("data-drawn", "true")
    expect(page.locator('table[data-export="pulse_items"] tbody tr')).to_have_count(7)
    screen_matches_csv(page)
    shot(page, screenshots, "lever")

    page.get_by_role("navigation", name="Levers").get_by_role("link", name="Time pressure").click()
    expect(page.locator("#lever-chart")).to_have_attribute("data-drawn", "true")
    expect(page.locator('table[data-export="calendar"] tbody tr')).to_have_count(12)
    screen_matches_csv(page)
    shot(page, screenshots, "time-pressure")

    # The week chooser works from the keyboard and keeps the lever.
    page.get_by_label("Week", exact=True).focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/levers/time_pressure\?week=\d{4}-W\d{2}$"))

    page.set_viewport_size(PHONE)
    page.goto(page.url.split("/levers/")[0])
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{width}px wide at phone width"
    shot(page, screenshots, "phone")
    page.context.close()


def _raw_numbers(demo: dict[str, Any], team: str) -> set[str]:
    """Every lever value and pulse-item score the read model holds for a team, unsuppressed."""
    with demo["engine"].connect() as conn:
        rows = conn.execute(
            text("SELECT * FROM lever_team_weeks WHERE team_id = :t"), {"t": demo["teams"][team]}
        ).all()
    found = set()
    for row in rows:
        sums = week_sums(row)
        found |= {f"{v.value:.1f}" for v in model.levers_of(sums).values() if v.value is not None}
        found |= {f"{v:.1f}" for v, _ in map(sums.item, model.ITEMS) if v is not None}
    return found


def test_a_small_team_shows_no_number(browser: Any, demo: dict[str, Any], screenshots: Path):
    from playwright.sync_api import expect

    secret = _raw_numbers(demo, "Research")
    assert secret  # Research has numbers: they are only never shown
    page = log_in(browser, demo["base"], "jean@demo.test")
    page.goto(f"{demo['base']}/dashboards/")
    expect(page.get_by_role("heading", level=1, name="Research")).to_be_visible()
    values = page.locator(".lever-value")
    expect(values).to_have_count(5)
    assert [v.inner_text() for v in values.all()] == [HIDDEN] * 5
    # Said once, above the cards, with what to do; not on every card.
    expect(page.locator("#why-hidden")).to_contain_text(re.compile(r"\d more people are needed"))
    expect(page.locator("#why-hidden")).to_contain_text("Admin → Teams")
    assert page.get_by_text("Shown when at least").count() == 0
    assert page.locator("svg.spark polyline").count() == 0
    page.get_by_text("Show these numbers as a table").click()
    body = screen_matches_csv(page)
    shot(page, screenshots, "suppressed")
    html = page.content()
    main = html.split('<main id="main">')[1]
    for source in (main, body):
        pattern = r"(?<![\d.W-])(" + "|".join(map(re.escape, secret)) + r")(?![\d%])"
        leaked = [m.group(0) for m in re.finditer(pattern, re.sub(r"\d{4}-W\d{2}", "", source))]
        assert not leaked, leaked
    # No number in any attribute or tooltip of the main content (links and ids aside).
    attributes = page.evaluate(
        """() => [...document.querySelectorAll('main *')].flatMap(e => [...e.attributes]
            .filter(a => !['href', 'id', 'aria-labelledby', 'value', 'viewBox', 'width',
                           'height', 'x1', 'x2', 'y1', 'y2', 'stroke-dasharray'].includes(a.name))
            .map(a => a.value))"""
    )
    assert [a for a in attributes if re.search(r"\d", a.replace(HIDDEN, ""))] == []
    _, tables = csv_blocks(body)
    cells = [c for t in tables for row in t["rows"][1:] for c in row[1:]]
    assert cells and set(cells) == {HIDDEN} | {c for c in cells if not re.search(r"\d", c)}
    page.context.close()


def test_an_admin_sees_the_organisation(browser: Any, demo: dict[str, Any], screenshots: Path):
    from playwright.sync_api import expect

    page = log_in(browser, demo["base"], "admin@demo.test")
    page.get_by_role("link", name="Lever dashboards").click()
    expect(page).to_have_url(re.compile(r"/dashboards/org$"))
    heat = page.locator('table[data-export="teams"] tbody tr')
    expect(heat).to_have_count(4)
    research = heat.filter(has_text="Research").locator("td")
    assert [c.inner_text() for c in research.all()] == [HIDDEN] * 5
    # Released values with their margins; a team of the demo (5 to 9 people) is too noisy
    # for a good/watch/concern reading (margin over 20 points), so no cell carries a band.
    assert any(" ± " in c.inner_text() for c in heat.locator("td").all())
    screen_matches_csv(page)
    shot(page, screenshots, "org")
    page.context.close()


def test_an_employee_gets_403_everywhere(browser: Any, demo: dict[str, Any]):
    page = log_in(browser, demo["base"], "ada@demo.test")
    assert page.get_by_role("link", name="Lever dashboards").count() == 0
    platform = demo["teams"]["Platform"]
    for path in (
        "/dashboards/",
        f"/dashboards/teams/{platform}",
        f"/dashboards/teams/{platform}/export.csv",
        f"/dashboards/teams/{platform}/levers/time_pressure",
        f"/dashboards/teams/{platform}/levers/time_pressure/export.csv",
        "/dashboards/org",
        "/dashboards/org/export.csv",
        "/dashboards/org/levers/participation",
    ):
        response = page.request.get(demo["base"] + path)
        assert response.status == 403, path
    page.context.close()


LANGUAGES = {
    "de": {
        "locale": "de-DE",
        "safety": "Psychologische Sicherheit",
        "week": "KW ",
        "numbers": "Diese Zahlen als Tabelle zeigen",
        "about": "Was er bedeutet",
        "under_k": "Es fehlen noch",
    },
    "fr": {
        "locale": "fr-FR",
        "safety": "Sécurité psychologique",
        "week": "Semaine ",
        "numbers": "Afficher ces chiffres sous forme de tableau",
        "about": "Ce qu'il signifie",
        "under_k": "Il manque encore",
    },
}


def log_in_as(browser: Any, base: str, email: str, locale: str) -> Any:
    """Logged in at phone width with the browser's language ``locale`` (its Accept-Language),
    by the form's fields (whatever language the login page speaks)."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport=PHONE, locale=locale)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()
    expect(page.locator("main")).to_be_visible()
    assert "/login" not in page.url
    return page


def fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        """w => [...document.querySelectorAll('main *')]
            .filter(e => e.getBoundingClientRect().right > w)
            .slice(0, 5).map(e => e.tagName + ': ' + e.textContent.slice(0, 60))""",
        PHONE["width"],
    )
    assert width <= PHONE["width"], f"{width}px wide at phone width: {wide}"


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_the_dashboards_journey_in_german_and_french_on_a_phone(
    browser: Any, demo: dict[str, Any], screenshots: Path, language: str
):
    from playwright.sync_api import expect

    words = LANGUAGES[language]
    page = log_in_as(browser, demo["base"], "grace@demo.test", words["locale"])
    page.locator("a.dash").first.click()  # the navigation's "Lever dashboards"
    expect(page.get_by_role("heading", level=1, name="Platform")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", re.compile(f"^{language}"))
    cards = page.locator(".lever-card")
    expect(cards).to_have_count(5)
    expect(cards.first.get_by_role("heading")).to_have_text(words["safety"])
    expect(page.locator(".week-shown")).to_contain_text(words["week"])
    expect(page.locator("#nudges-title")).to_contain_text(words["week"])
    assert not re.search(r"\d{4}-W\d{2}", page.locator("main").inner_text())  # no ISO code
    values = [v.inner_text() for v in page.locator(".lever-value").all()]
    assert any(re.search(r"\d+,\d", v) for v in values), values  # a decimal comma
    fits(page)
    page.get_by_text(words["numbers"]).click()
    screen_matches_csv(page)
    fits(page)
    page.get_by_text(words["numbers"]).click()  # closed again for the screenshot
    shot(page, screenshots, f"overview-{language}")

    cards.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(words["safety"])
    expect(page.locator("#about-title")).to_have_text(words["about"])
    expect(page.locator("#lever-chart")).to_have_attribute("data-drawn", "true")
    expect(page.locator('table[data-export="pulse_items"] tbody tr')).to_have_count(7)
    fits(page)
    screen_matches_csv(page)
    shot(page, screenshots, f"lever-{language}")
    page.context.close()

    # Jean's Research, under k: told once, in the reader's language, what is missing.
    page = log_in_as(browser, demo["base"], "jean@demo.test", words["locale"])
    page.goto(f"{demo['base']}/dashboards/")
    expect(page.locator("#why-hidden")).to_contain_text(words["under_k"])
    fits(page)
    page.context.close()
