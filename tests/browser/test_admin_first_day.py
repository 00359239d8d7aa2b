"""An admin's first day in a real browser at phone width (390 px): build a two-level team
tree, invite three people from a CSV with one bad row (the preview names it; nothing is
written until confirmed; the links are shown), make one of them a manager, set k to 4, see
it all in the audit, and call the API from its docs page ("Try it out", with the session)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text

from shared.commands import OrganizationCommands
from shared.eventlog import EventStore

pytestmark = pytest.mark.integration

PASSWORD = "first-day-password"


def _count(store: EventStore, tenant: uuid.UUID, kind: str) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM events WHERE tenant_id = :t AND type = :k"),
                {"t": tenant, "k": kind},
            ).scalar_one()
        )


def test_an_admins_first_day(browser: Any, live_server: str, store: EventStore):
    suffix = uuid.uuid4().hex[:8]
    admin_email = f"first-admin-{suffix}@example.org"
    tenant, _ = OrganizationCommands(store).create_organization(
        f"First day {suffix}", admin_email, PASSWORD, "Avery Admin"
    )
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill(admin_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Admin").click()
    page.get_by_role("heading", name="People").wait_for()

    # A two-level tree: Engineering, and Platform below it.
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Teams").click()
    page.get_by_label("Name").fill("Engineering")
    page.get_by_role("button", name="Create team").click()
    page.get_by_text("Team created.").wait_for()
    page.get_by_label("Name").fill("Platform")
    page.get_by_label("Below").select_option(label="Engineering")
    page.get_by_role("button", name="Create team").click()
    page.locator('tr[data-team="Platform"][data-depth="1"]').wait_for()

    # Three people from a CSV, one of them with a bad address.
    ada, bo = f"ada-{suffix}@example.org", f"bo-{suffix}@example.org"
    csv = (
        "email,name,team,role\n"
        f"{ada},Ada,Platform,\n"
        "bo-at-example,Bo,Platform,\n"
        f"{bo},Bo,Engineering,\n"
    )
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Invite").click()
    page.get_by_label("or a CSV file").set_input_files(
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.get_by_role("button", name="Preview").click()
    assert "2 rows of 3 are ready" in page.locator("#summary").inner_text()
    assert "line 3" in page.get_by_role("alert").inner_text()
    problem = page.locator("#preview tr.row-error p.error")
    assert "is not an e-mail address" in problem.inner_text()
    box = problem.bounding_box()  # one card per row at phone width: the problem is on screen
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert _count(store, tenant, "PersonInvited") == 1  # the admin only: nothing written yet
    page.get_by_role("button", name="Invite 2 people").click()
    page.get_by_text("2 people invited. 1 row skipped.").wait_for()
    assert "/admin/invite/sent/" in page.url  # post-redirect-get: a reload posts nothing
    page.reload()
    page.get_by_text("2 people invited. 1 row skipped.").wait_for()
    assert page.get_by_role("link", name="invitation link").count() == 2
    assert _count(store, tenant, "PersonInvited") == 3
    page.get_by_role("link", name="See who has not joined yet").click()
    page.wait_for_load_state()  # htmx is loaded: typing filters
    assert page.locator("#people tbody tr").count() == 2
    page.get_by_label("Name or e-mail").fill("ada-")  # filters as one types (htmx)
    page.locator("#matches", has_text="1 person matches").wait_for()
    assert page.locator("#people tbody tr").inner_text().startswith(ada)
    status = page.locator("#people tbody tr .badge")
    assert status.inner_text() == "Invited" and status.is_visible()
    box = status.bounding_box()
    assert box and box["x"] + box["width"] <= 390, box
    assert "q=ada-" in page.url

    # Ada manages Platform.
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Teams").click()
    page.get_by_role("link", name="Platform").click()
    page.get_by_label("New manager's e-mail").fill(ada)
    page.get_by_role("button", name="Add manager").click()
    page.get_by_text("Manager assigned.").wait_for()
    assert "Ada" in page.locator("#managers").inner_text()
    page.get_by_role("link", name="Teams", exact=True).first.click()
    assert "Ada" in page.locator('tr[data-team="Platform"]').inner_text()

    # k to 4: the other settings keep their values.
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Settings").click()
    page.get_by_label("k (at least 3)").fill("4")
    page.get_by_role("button", name="Save k").click()
    page.get_by_text("Saved.").wait_for()
    assert page.get_by_label("k (at least 3)").input_value() == "4"

    # The audit shows each step, done by the admin.
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Audit").click()
    audit = page.locator("#audit").inner_text()
    for entry in ("Team created", "Invited", "Manager assigned", "k: 4"):
        assert entry in audit, entry
    assert audit.count(admin_email) >= 5
    # Nothing of the page is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1

    # The API docs: "Try it out" with the session (its CSRF token sent by the page).
    page.goto(f"{live_server}/api/v1/docs")
    operation = page.locator(".opblock-patch", has_text="/org/settings")
    operation.locator(".opblock-summary").first.click()
    operation.get_by_role("button", name="Try it out").click()
    operation.locator("textarea.body-param__text").fill('{"k": 5}')
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200", operation.locator(
        ".live-responses-table"
    ).inner_text()
    assert _count(store, tenant, "OrganizationSettingsChanged") == 2
    context.close()


FIRST_DAY = {
    "de": {
        "teams": "Teams",
        "name": "Name",
        "below": "Unter",
        "create": "Team anlegen",
        "created": "Team angelegt.",
        "invite": "Einladen",
        "csv": "oder eine CSV-Datei",
        "preview": "Vorschau",
        "summary": "1 Zeile von 2 ist bereit zum Einladen.",
        "problem": "ist keine E-Mail-Adresse.",
        "confirm": "1 Person einladen",
        "invited": "1 Person eingeladen. 1 Zeile übersprungen.",
        "people": "Personen",
        "search": "Name oder E-Mail",
        "matches": "1 Person gefunden.",
        "status": "Eingeladen",
        "settings": "Einstellungen",
        "k": "k (mindestens 3)",
        "save_k": "k speichern",
        "saved": "Gespeichert.",
        "audit": "Audit",
        "changed": "Einstellungen geändert",
    },
    "fr": {
        "teams": "Équipes",
        "name": "Nom",
        "below": "Sous",
        "create": "Créer l\u2019équipe",
        "created": "Équipe créée.",
        "invite": "Inviter",
        "csv": "ou un fichier CSV",
        "preview": "Prévisualiser",
        "summary": "1 ligne sur 2 est prête à être invitée.",
        "problem": "n'est pas une adresse e-mail.",
        "confirm": "Inviter 1 personne",
        "invited": "1 personne invitée. 1 ligne ignorée.",
        "people": "Personnes",
        "search": "Nom ou e-mail",
        "matches": "1 personne correspond.",
        "status": "Invitée",
        "settings": "Paramètres",
        "k": "k (au moins 3)",
        "save_k": "Enregistrer k",
        "saved": "Enregistré.",
        "audit": "Audit",
        "changed": "Paramètres modifiés",
    },
}


@pytest.mark.parametrize("language", ["de", "fr"])
def test_an_admins_first_day_in_each_language(
    browser: Any, live_server: str, store: EventStore, screenshots: Any, language: str
):
    """The same day in German and in French at phone width (the browser asks for the
    language): a team, a CSV previewed and confirmed, the people page, k, the audit; the
    people and settings pages as screenshots (docs/screenshots/admin-*-de.png, -fr.png)."""
    words = FIRST_DAY[language]
    suffix = uuid.uuid4().hex[:8]
    admin_email = f"admin-{language}-{suffix}@example.org"
    tenant, _ = OrganizationCommands(store).create_organization(
        f"Erster Tag {suffix}", admin_email, PASSWORD, "Avery Admin"
    )
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale=language)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.locator("input[name=email]").fill(admin_email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{live_server}/admin/teams")
    subnav = page.get_by_role("navigation", name="Admin")
    page.get_by_label(words["name"], exact=True).fill("Forschung")
    page.get_by_role("button", name=words["create"]).click()
    page.get_by_text(words["created"]).wait_for()

    subnav.get_by_role("link", name=words["invite"], exact=True).click()
    ada = f"ada-{language}-{suffix}@example.org"
    csv = f"email,name,team,role\n{ada},Ada,Forschung,\nbo-at-example,Bo,Forschung,\n"
    page.get_by_label(words["csv"]).set_input_files(
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.get_by_role("button", name=words["preview"]).click()
    assert page.locator("#summary").inner_text().startswith(words["summary"])
    problem = page.locator("#preview tr.row-error p.error")
    assert problem.inner_text().endswith(words["problem"])
    box = problem.bounding_box()
    assert box and box["x"] + box["width"] <= 390, box
    page.get_by_role("button", name=words["confirm"]).click()
    page.get_by_text(words["invited"]).wait_for()
    assert _count(store, tenant, "PersonInvited") == 2

    subnav.get_by_role("link", name=words["people"]).click()
    page.wait_for_load_state()  # htmx is loaded: typing filters
    page.get_by_label(words["search"]).fill("ada-")
    page.locator("#matches", has_text=words["matches"]).wait_for()
    assert page.locator("#people tbody tr .badge").inner_text() == words["status"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.screenshot(path=str(screenshots / f"admin-people-{language}.png"), full_page=True)

    subnav.get_by_role("link", name=words["settings"]).click()
    page.get_by_label(words["k"]).fill("4")
    page.get_by_role("button", name=words["save_k"]).click()
    page.get_by_text(words["saved"]).wait_for()
    assert page.get_by_label(words["k"]).input_value() == "4"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.screenshot(path=str(screenshots / f"admin-settings-{language}.png"), full_page=True)

    subnav.get_by_role("link", name=words["audit"]).click()
    audit = page.locator("#audit").inner_text()
    assert words["changed"] in audit and "k: 4" in audit
    context.close()
