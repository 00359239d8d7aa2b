"""The admin console in the reader's language: the organisation's default language chosen
on the settings page (an event, like every setting), every page's text through the
catalogue (the pseudo-locale leaves nothing outside ``⟦…⟧``), counts in plural forms."""

from __future__ import annotations

import calendar
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask

from services.gateway.i18n import PSEUDO_CONFIG
from shared.commands.settings import organisation_settings
from shared.i18n import LANGUAGE_NAMES
from tests.admin.conftest import Console, log_in

pytestmark = pytest.mark.integration

NAMES = {"Compound", "Slack", "Microsoft", "Teams", "CSV", "UTC", "API", "SSO", "SCIM"}
"""Product and format names, the same in every language."""
ATTRIBUTES = ("aria-label", "data-label", "placeholder", "title", "alt")


class _Text(HTMLParser):
    """The text a reader sees in ``<main>`` (and its labelling attributes), without the
    ``<code>`` of commands and event names, which are never translated."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.depth = 0  # inside <main>
        self.code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main":
            self.depth += 1
        if tag == "code":
            self.code += 1
        if self.depth:
            self.parts += [v for k, v in attrs if k in ATTRIBUTES and v]

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.depth -= 1
        if tag == "code":
            self.code -= 1

    def handle_data(self, data: str) -> None:
        if self.depth and not self.code:
            self.parts.append(data)


def outside_catalogue(page: str, data: set[str]) -> list[str]:
    """The words of ``page`` outside the pseudo-locale's ``⟦…⟧`` that are not ``data``
    (what people typed: addresses, names) nor product names."""
    reader = _Text()
    reader.feed(page)
    text = re.sub(r"⟦[^⟧]*⟧", " ", " ".join(reader.parts))
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in NAMES]


@pytest.fixture
def pseudo(app: Flask, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setitem(app.config, PSEUDO_CONFIG, True)
    return {"Accept-Language": "en-XA"}


def test_every_admin_page_goes_through_the_catalogue(console: Console, pseudo: dict[str, str]):
    org = console.org
    person, team = org.people["platform-1"], org.teams["platform"]
    invited = console.commands.invite(console.admin, "pseudo-invited@example.org")
    console.post("/admin/settings", {"k": "4"})  # an audit entry with details
    data = {*org.emails.values(), "pseudo-invited@example.org", "platform", "payments"}
    data |= {who.title() for who in org.people} | {"Admin"}  # the display names
    data.add("ada@example.org,Ada Lovelace,Platform,manager")  # the list's example line
    data |= set(LANGUAGE_NAMES.values())  # each language by its own name
    data |= {day.capitalize() for day in calendar.day_name}  # formatted by Babel (CLDR)
    pages = [
        "/admin/people",
        "/admin/people?q=zzz-nobody",
        f"/admin/people/{person}",
        f"/admin/people/{invited.person_id}",
        "/admin/invite",
        "/admin/teams",
        f"/admin/teams/{team}",
        "/admin/settings?saved=k",
        "/admin/audit",
        "/admin/audit?since=yesterday",
        "/admin/integrations",
        "/slack",
        "/msteams",
    ]
    for path in pages:
        page = console.client.get(path, headers=pseudo).get_data(as_text=True)
        assert "⟦" in page, path
        assert not outside_catalogue(page, data), (path, outside_catalogue(page, data))
    posted = {
        "/admin/invite/preview": {"list": "new-one@example.org,,platform\nbad,,nowhere,boss"},
        "/admin/invite": {"email": "not-an-address"},
        "/admin/teams": {"name": ""},
        "/admin/settings": {"k": "x"},
    }
    for path, form in posted.items():
        page = console.post(path, form, headers=pseudo).get_data(as_text=True)
        typed = {"new-one@example.org", "bad", "nowhere", "boss"}
        leftovers = outside_catalogue(page, data | typed)
        assert not leftovers, (path, leftovers)
    response = console.post(f"/admin/people/{invited.person_id}/resend", headers=pseudo)
    page = console.client.get(response.headers["Location"], headers=pseudo).get_data(as_text=True)
    link = re.search(r'href="([^"]*/invite/[^"]+)"', page)
    assert link and not outside_catalogue(page, data | {link.group(1)})
    response = console.post("/admin/invite", {"email": "pseudo-two@example.org"}, headers=pseudo)
    page = console.client.get(response.headers["Location"], headers=pseudo).get_data(as_text=True)
    assert not outside_catalogue(page, data | {"pseudo-two@example.org"})


def test_the_organisations_default_language_is_a_setting(console: Console, app: Flask):
    before = console.page("/admin/settings")
    assert '<option value="de" lang="de">Deutsch</option>' in before
    assert console.post("/admin/settings", {"default_locale": "de"}).status_code == 302
    changed = console.events("OrganizationSettingsChanged")[-1].data
    assert changed["default_locale"] == "de" and changed["k"] == 5  # the others kept
    page = console.page("/admin/settings?saved=default_locale")  # no Accept-Language: German
    assert '<html lang="de">' in page or 'lang="de"' in page
    assert "Gespeichert." in page and "<h1>Einstellungen</h1>" in page
    assert '<option value="de" lang="de" selected>Deutsch</option>' in page
    french = console.client.get("/admin/people", headers={"Accept-Language": "fr"})
    assert "<h1>Personnes</h1>" in french.get_data(as_text=True)  # the browser comes first
    response = console.post("/admin/settings", {"default_locale": "xx"})
    assert response.status_code == 422 and 'id="default_locale-error"' in response.get_data(
        as_text=True
    )
    with app.app_context():
        from services.gateway.resources import resources

        with resources().engine.connect() as conn:
            current = organisation_settings(conn, console.org.tenant_id, resources().settings)
    assert current.default_locale == "de"


@pytest.mark.parametrize(
    ("language", "one", "many"),
    [
        ("de", "1 Person gefunden.", "Personen gefunden."),
        ("fr", "1 personne correspond.", "personnes correspondent."),
    ],
)
def test_counts_take_each_languages_plural(console: Console, language: str, one: str, many: str):
    headers: Any = {"Accept-Language": language}
    page = console.client.get("/admin/people?role=admin", headers=headers).get_data(as_text=True)
    assert one in page
    page = console.client.get("/admin/people", headers=headers).get_data(as_text=True)
    assert re.search(r"\b7 " + many, page), page[page.find('id="matches"') :][:120]


def test_an_employee_is_refused_in_their_language(console: Console, app: Flask):
    client = app.test_client()
    log_in(client, console.org.emails["platform-1"], console.org.password)
    response = client.get("/admin/people", headers={"Accept-Language": "fr"})
    assert response.status_code == 403
    assert "réservée aux administrateur·rices" in response.json["detail"]
