"""A new employee's first session, in a real browser against a live gateway.

Accept the invitation and set a password, log in, log three micro-actions (and undo a
fourth, by keyboard, beside its confirmation), plan the week (each tick on its line at phone
width), start an experiment (its hypothesis shown, day 0 compared with nothing), correct an
action from My actions, ask for feedback and answer it in a second
browser context without login (phone size), record an outcome, see the capital page change,
answer the pulse, export (JSON) and erase. Saves screenshots of the main pages to
docs/screenshots/.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from services.gateway.auth import invitation_serializer
from shared.commands import Actor, OrganizationCommands
from shared.eventlog import EventStore
from tests.conftest import DemoOrg

pytestmark = pytest.mark.integration

PASSWORD = "a-long-new-password"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def invite(live_app: Flask, store: EventStore, org: DemoOrg, base: str) -> tuple[str, str]:
    email = f"journey-{uuid.uuid4().hex[:8]}@demo.test"
    admin = Actor(tenant_id=org.tenant_id, person_id=org.admin, role="admin", source="test")
    invitation = OrganizationCommands(store).invite(admin, email, "employee", org.teams["platform"])
    with live_app.app_context():
        token = invitation_serializer().dumps(
            {"t": str(org.tenant_id), "p": str(invitation.person_id)}
        )
    return email, f"{base}/invite/{token}"


def score(page: Any, dimension: str) -> float:
    return float(page.locator(f'[data-score="{dimension}"]').inner_text())


def shot(page: Any, folder: Path, name: str, mask: list[Any] | None = None) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True, mask=mask or [])


def phone_shot(page: Any, folder: Path, name: str) -> None:
    """The page laid out at phone width: nothing wider than the screen."""
    page.set_viewport_size(PHONE)
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: {width}px wide at phone width"
    shot(page, folder, name)
    page.set_viewport_size(DESKTOP)


def nav(page: Any, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def choose_action(page: Any, label: str, note: str) -> None:
    select = page.get_by_label(label)
    value = select.locator("option", has_text=note).get_attribute("value")
    select.select_option(value)


def log_action(page: Any, tactic: str, minutes: str, audience: str, note: str = "") -> None:
    page.get_by_label(f"{minutes} min", exact=True).check()
    page.get_by_label(audience, exact=True).check()
    page.get_by_label("Note").fill(note)
    page.locator(f'button[name="tactic"][value="{tactic}"]').click()


def test_new_employee_journey(
    browser: Any,
    live_app: Flask,
    live_server: str,
    projector: None,
    store: EventStore,
    org: DemoOrg,
    screenshots: Path,
):
    from playwright.sync_api import expect

    email, link = invite(live_app, store, org, live_server)
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    script_errors: list[str] = []
    page.on("pageerror", lambda err: script_errors.append(str(err)))

    # Accept the invitation, set a password: logged in at once.
    page.goto(link)
    page.get_by_label("Your name").fill("Robin")
    page.get_by_label("Choose a password").fill("short")
    page.get_by_role("button", name="Set my password").click()
    expect(page.locator(".error")).to_contain_text("Use 10 to 200 characters")  # by the field
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_role("button", name="Set my password").click()
    expect(page.get_by_role("status").first).to_contain_text("Welcome")
    expect(page.get_by_role("heading", name="Hello, Robin")).to_be_visible()
    expect(page.locator("#this-week .empty")).to_be_visible()  # a friendly empty state

    # Capital before: all zero.
    page.goto(f"{live_server}/capital")
    expect(page.locator("#capital-chart")).to_have_attribute("data-drawn", "true")
    before = {d: score(page, d) for d in ("capability", "visibility", "relationships")}
    assert before == {"capability": 0.0, "visibility": 0.0, "relationships": 0.0}

    # Three micro-actions, each in at most three interactions; then one undone.
    nav(page, "Today")
    log_action(page, "meeting_quick_win", "10", "Decision-makers", "3-bullet sprint summary")
    expect(page.locator("#this-week li")).to_have_count(1)
    log_action(page, "learning_bit", "20", "Just me", "20 minutes with the profiler")
    expect(page.locator("#this-week li")).to_have_count(2)
    log_action(page, "relationship_deposit", "5", "My team", "thanked Sam for the review")
    expect(page.locator("#this-week li")).to_have_count(3)
    # The fourth by keyboard: focus lands on its confirmation, whose Undo sits beside it.
    page.get_by_label("Note").fill("logged by mistake")
    page.locator('button[name="tactic"][value="network_nudge"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator("#this-week li")).to_have_count(4)
    expect(page.locator("#logged")).to_be_focused()
    undo = page.locator("#logged").get_by_role("button", name="Undo")
    page.keyboard.press("Tab")
    expect(undo).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#this-week li")).to_have_count(3)
    expect(page.get_by_role("status")).to_contain_text("Undone")
    expect(page.locator("#undone")).to_be_focused()
    shot(page, screenshots, "today")
    phone_shot(page, screenshots, "today-phone")

    # Plan the week and start an experiment.
    nav(page, "Plan")
    page.locator("#tactic_0").select_option("meeting_quick_win")
    page.locator("#label_0").fill("summary after each demo")
    page.locator("#tactic_1").select_option("small_exposure")
    page.get_by_role("button", name="Save plan").click()
    expect(page.get_by_role("status")).to_contain_text("Plan saved")
    expect(page.locator(".ticks li.done")).to_have_count(1)  # the quick win logged above
    shot(page, screenshots, "plan")
    page.set_viewport_size(PHONE)
    for item in page.locator(".ticks li").all():  # each tick on its text's line
        tick, text = item.locator(".tick").bounding_box(), item.locator(".tick-text").bounding_box()
        assert tick and text and abs(tick["y"] - text["y"]) < tick["height"], (tick, text)
    page.set_viewport_size(DESKTOP)
    nav(page, "Experiments")
    page.get_by_label("Tactic to try").select_option("prototype_first")
    page.get_by_label("What do you expect?").fill("prototypes get me into design reviews")
    page.get_by_role("button", name="Start").click()
    expect(page.locator(".experiment")).to_have_count(1)
    expect(page.locator(".experiment .hypothesis")).to_contain_text("design reviews")
    expect(page.locator(".no-comparison")).to_contain_text("Day 0")  # nothing compared yet
    shot(page, screenshots, "experiments")

    # A correction later, from My actions: the learning bit took 30 minutes, not 20.
    page.goto(f"{live_server}/history")
    item = page.locator(".timeline li", has_text="20 minutes with the profiler")
    item.locator("summary").click()
    item.get_by_label("Minutes").fill("30")
    item.get_by_role("button", name="Save the correction").click()
    expect(page.get_by_role("status")).to_contain_text("Corrected")
    expect(page.locator(".timeline li", has_text="profiler")).to_contain_text("30 min")
    expect(page.locator(".timeline > li")).to_have_count(3)

    # Ask for micro-feedback about the summary; a colleague answers on a phone, no login.
    nav(page, "Feedback")
    page.get_by_label("Your question").fill("Was that summary useful?")
    choose_action(page, "About which action?", "3-bullet sprint summary")
    page.get_by_role("button", name="Create the link").click()
    feedback_link = page.locator("#new-link").input_value()
    assert feedback_link.startswith(f"{live_server}/f/")
    colleague = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone = colleague.new_page()
    phone.goto(feedback_link)
    expect(phone.get_by_text("Was that summary useful?")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(phone, screenshots, "feedback-link-phone")
    phone.get_by_label("Comment (optional)").fill("Yes, the trade-off was clear")
    phone.get_by_role("button", name="Yes, useful").click()  # the one click
    expect(phone.get_by_role("status")).to_contain_text("Thank you")
    colleague.close()
    # The answer is the colleague's write: wait for the read model to reach it, then reload.
    projections = live_app.extensions["compound"].projections
    assert projections.wait_for("feedback_loop", store.head(), 10.0) >= store.head()
    page.reload()
    answered = page.locator(".feedback-item.status-answered")
    expect(answered).to_contain_text("Useful")
    expect(answered).to_contain_text("the trade-off was clear")
    shot(page, screenshots, "feedback")

    # Record an outcome for the summary.
    nav(page, "Outcomes")
    page.get_by_label("Invitation").check()
    choose_action(page, "Which action led to it?", "3-bullet sprint summary")
    page.get_by_label("Note").fill("invited to roadmap planning")
    page.get_by_role("button", name="Record outcome").click()
    expect(page.get_by_role("status")).to_contain_text("Outcome recorded")
    expect(page.locator(".timeline li")).to_contain_text("credits Quick win in a meeting")

    # Capital after: chart drawn, numbers up, the table alternative says the same.
    nav(page, "My capital")
    expect(page.locator("#capital-chart")).to_have_attribute("data-drawn", "true")
    after = {d: score(page, d) for d in before}
    assert all(after[d] > before[d] for d in before), (before, after)
    last_row = page.locator("#capital-table tbody tr").last.locator("td")
    assert [float(v) for v in last_row.all_text_contents()[:3]] == list(after.values())
    expect(page.locator(".explain a").first).to_be_visible()
    shot(page, screenshots, "capital")
    phone_shot(page, screenshots, "capital-phone")

    # The weekly pulse: refused with messages when incomplete, then sent anonymously.
    nav(page, "Pulse")
    expect(page.get_by_role("heading", name="Anonymous, and why")).to_be_visible()
    page.get_by_role("button", name="Send anonymously").click()
    expect(page.locator(".likert .error")).to_have_count(10)
    for fieldset in page.locator("fieldset.likert").all():
        fieldset.locator('input[value="5"]').check(force=True)
    shot(page, screenshots, "pulse")
    page.get_by_role("button", name="Send anonymously").click()
    expect(page.get_by_role("status")).to_contain_text("anonymous answer was recorded")

    # Account: a personal access token, shown once.
    page.get_by_role("link", name="Account", exact=True).click()
    page.get_by_label("Token name").fill("my script")
    page.get_by_role("button", name="Create token").click()
    assert page.locator("#new-token").input_value()
    expect(page.get_by_role("link", name="Calendar")).to_have_attribute("href", "/calendar")
    shot(page, screenshots, "account", mask=[page.locator("#new-token")])  # no token in docs

    # Export everything (JSON), then erase.
    page.get_by_role("link", name="My data").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download JSON").click()
    exported = json.loads(Path(download.value.path()).read_text())
    actions = exported["actions"]  # grouped by kind: the undone and the corrected one marked
    assert len(actions) == 5 and sum(a["retracted_at"] is not None for a in actions) == 2
    assert "thanked Sam for the review" in json.dumps(exported)
    shot(page, screenshots, "data")
    page.get_by_role("button", name="Erase my data and close my account").click()
    expect(page.locator("#confirm-error")).to_be_visible()  # no confirmation, nothing erased
    page.get_by_label("Type").fill("erase my data")
    page.get_by_role("button", name="Erase my data and close my account").click()
    expect(page.get_by_role("heading", name="Your data has been erased")).to_be_visible()
    page.goto(f"{live_server}/capital")
    assert "/login" in page.url  # logged out
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".error")).to_contain_text("Wrong e-mail or password")
    context.close()

    assert not script_errors
    # Nothing was loaded from another host.
    assert requested and all(url.startswith(live_server) for url in requested), {
        url for url in requested if not url.startswith(live_server)
    }


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_daily_pages_in_german_and_french_on_a_phone(
    browser: Any,
    live_app: Flask,
    live_server: str,
    projector: None,
    store: EventStore,
    org: DemoOrg,
    screenshots: Path,
    language: str,
):
    """Today, the plan, experiments and My actions at 390 px in the browser's language
    (``Accept-Language``): every text of these pages from the catalogue, the refusals too."""
    from playwright.sync_api import expect

    from shared.i18n import gettext, use_locale

    def t(message: str, **values: Any) -> str:
        with use_locale(language):
            text = gettext(message, **values)
        same = values or " " not in message  # "Note" is French too
        assert same or text != message, f"{message!r} is not translated into {language}"
        return text

    email = f"daily-{language}-{uuid.uuid4().hex[:8]}@demo.test"
    admin = Actor(tenant_id=org.tenant_id, person_id=org.admin, role="admin", source="test")
    people = OrganizationCommands(store)
    invitation = people.invite(admin, email, "employee", org.teams["platform"])
    people.accept_invitation(org.tenant_id, invitation.person_id, "Robin", PASSWORD)
    browser_locale = {"de": "de-DE", "fr": "fr-FR"}[language]
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale=browser_locale
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    script_errors: list[str] = []
    page.on("pageerror", lambda err: script_errors.append(str(err)))

    def fits(name: str) -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name}: {width}px wide at phone width"

    page.goto(f"{live_server}/login")
    page.locator('input[name="email"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('input[name="password"]').press("Enter")
    expect(page.get_by_role("heading", name=t("Hello, %(name)s", name="Robin"))).to_be_visible()
    expect(page.get_by_role("heading", name=t("Log a micro-action"))).to_be_visible()
    expect(page.locator("#this-week .empty")).to_have_text(
        t(
            "Nothing logged this week yet. Start with something tiny: a thank-you note, one "
            "sharp question, 10 minutes with a new tool."
        )
    )

    # Log by keyboard: the confirmation takes the focus, its Undo beside it.
    page.get_by_label(t("%(num)d min", num=20), exact=True).check()
    page.get_by_label(t("Note")).fill("profiler")
    page.locator('button[name="tactic"][value="learning_bit"]').focus()
    page.keyboard.press("Enter")
    logged = page.locator("#logged")
    expect(logged).to_be_focused()
    expect(logged).to_contain_text(t("Logged: %(tactic)s.", tactic=t("Learning bit")))
    expect(logged.get_by_role("button", name=t("Undo"))).to_be_in_viewport()
    expect(page.locator("#this-week li")).to_contain_text(t("%(num)d min", num=20))
    fits("today")
    shot(page, screenshots, f"today-{language}")

    # The plan: a tactic twice is refused next to its field, in the language.
    page.goto(f"{live_server}/plan")
    page.locator("#tactic_0").select_option("learning_bit")
    page.locator("#label_0").fill("profiler")
    page.locator("#tactic_1").select_option("network_nudge")
    page.locator("#tactic_2").select_option("learning_bit")
    page.get_by_role("button", name=t("Save plan")).click()
    expect(page.locator("#tactic_2-error")).to_have_text(
        t("Already in this plan: choose each tactic once.")
    )
    page.locator("#tactic_2").select_option("")
    page.get_by_role("button", name=t("Save plan")).click()
    expect(page.locator(".ticks li")).to_have_count(2)
    expect(page.locator(".ticks li.done")).to_contain_text(t("Learning bit"))
    fits("plan")
    shot(page, screenshots, f"plan-{language}")

    # Experiments: the hypothesis shown, day 0 compares nothing, a second one needs the box.
    page.goto(f"{live_server}/experiments")
    page.locator("#tactic").select_option("prototype_first")
    page.locator("#hypothesis").fill("prototypes → design reviews")
    page.get_by_role("button", name=t("Start"), exact=True).click()
    expect(page.locator(".experiment .hypothesis")).to_contain_text("prototypes → design reviews")
    day_0 = t(
        "Day 0: no change to show yet. From tomorrow each whole day is compared with as many "
        "days before the start."
    )
    expect(page.locator(".no-comparison")).to_have_text(day_0)
    page.locator("#tactic").select_option("network_nudge")
    page.get_by_role("button", name=t("Start"), exact=True).click()
    expect(page.locator("#alongside-error")).to_have_text(
        t('One experiment at a time: end the running one, or tick "Run beside the current one".')
    )
    fits("experiments")
    shot(page, screenshots, f"experiments-{language}")

    # My actions, from Today's "Correct": a correction later, in the language.
    page.goto(f"{live_server}/")
    page.locator("#this-week li").first.get_by_role("link", name=t("Correct")).click()
    expect(page.get_by_role("heading", name=t("My actions"))).to_be_visible()
    item = page.locator(".timeline > li").first
    expect(item.locator("details.correct")).to_have_attribute("open", "")  # opened for it
    item.get_by_label(t("Minutes")).fill("30")
    item.get_by_role("button", name=t("Save the correction")).click()
    expect(page.get_by_role("status")).to_have_text(
        t("Corrected. The action counts as you changed it.")
    )
    expect(page.locator(".timeline > li").first).to_contain_text(t("%(num)d min", num=30))
    fits("history")
    context.close()
    assert not script_errors
