"""Every portal page through Flask's test client on real PostgreSQL and Redis: what it shows,
what it writes, and that bad input gets its message next to the field and writes nothing."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.gateway.feedback import feedback_token
from shared.commands import Actor, JournalCommands
from shared.domain.weeks import iso_week_of
from shared.eventlog import EventStore
from shared.i18n import format_date, format_week, use_locale
from tests.conftest import DemoOrg
from tests.portal.conftest import Member, csrf_of

pytestmark = pytest.mark.integration

PAGES = (
    "/",
    "/plan",
    "/experiments",
    "/feedback",
    "/outcomes",
    "/capital",
    "/history",
    "/pulse",
    "/account",
    "/data",
)
Project = Callable[[], None]


def journal_types(store: EventStore, member: Member) -> list[str]:
    return [e.type for e in store.read_stream(f"journal-{member.id}")]


def field_error(html: str, name: str) -> str:
    """The message rendered next to field ``name`` (see portal/_macros.html)."""
    match = re.search(rf'<p class="error" id="{re.escape(name)}-error">([^<]+)</p>', html)
    assert match, f"no message next to {name}"
    return match.group(1)


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_a_login(client: FlaskClient, path: str):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_new_user_sees_friendly_empty_states(member: Callable[..., Member]):
    m = member()
    for path in PAGES:
        html = m.page(path)
        assert 'href="/static/vendor/htmx-2.0.11/htmx.min.js"' not in html  # a script, not css
        assert "<script" in html and "http://" not in html.split("<main")[0]  # nothing remote
    assert "Nothing logged this week yet" in m.page("/")
    assert "No plan for this week yet" in m.page("/plan")
    assert "No experiment running" in m.page("/experiments")
    assert "No questions yet" in m.page("/feedback")
    assert "No outcomes yet" in m.page("/outcomes")
    assert "Your capital starts at zero" in m.page("/capital")


def test_forms_need_the_csrf_token(member: Callable[..., Member], store: EventStore):
    m = member()
    response = m.client.post(
        "/actions", data={"tactic": "learning_bit", "minutes": "10", "audience": "team"}
    )
    assert response.status_code == 400
    assert journal_types(store, m) == []


def test_log_an_action_in_one_post_and_undo_it_beside_the_confirmation(
    member: Callable[..., Member], store: EventStore, project: Project
):
    m = member()
    response = m.post(
        "/actions",
        {"tactic": "relationship_deposit", "minutes": "5", "audience": "team", "note": "thanks!"},
    )
    assert response.status_code == 302
    project()
    html = m.client.get(response.headers["Location"]).get_data(as_text=True)
    notice = re.search(r'<div class="notice success confirm" id="logged".*?</div>', html, re.S)
    assert notice, "no confirmation"
    assert "Logged: Relationship deposit." in notice.group(0)
    action = re.search(r'action="/actions/([0-9a-f-]+)/undo"', notice.group(0))  # beside it
    assert action and "thanks!" in html
    assert html.count("/undo") == 1  # the one undo, in the confirmation
    undone = m.post(f"/actions/{action.group(1)}/undo")
    assert undone.status_code == 302
    project()
    html = m.client.get(undone.headers["Location"]).get_data(as_text=True)
    assert "Undone" in html and "thanks!" not in html
    assert journal_types(store, m) == ["MicroActionLogged", "MicroActionRetracted"]
    again = m.post(f"/actions/{action.group(1)}/undo")
    assert again.status_code == 409 and "undone already" in again.get_data(as_text=True)


def test_every_link_on_today_leaves_the_page(member: Callable[..., Member], project: Project):
    """Today's forms are boosted (htmx swaps ``#today`` in place); a boosted link would swap
    in the ``#today`` of another page, which has none: nothing."""
    m = member()
    m.post("/plan", {"tactic_0": "learning_bit"})
    m.post("/actions", {"tactic": "learning_bit", "minutes": "10", "audience": "team"})
    project()
    html = m.page("/")
    today = html[html.index('<div id="today"') :]
    links = re.findall(r"<a [^>]*>", today)
    assert len(links) >= 3  # the plan, the action's Correct, all my actions
    assert all('hx-boost="false"' in link for link in links), links


def test_an_action_is_corrected_or_removed_later_from_the_history(
    member: Callable[..., Member], store: EventStore, project: Project
):
    m = member()
    then = (datetime.now(UTC) - timedelta(days=9)).replace(microsecond=0)
    m.post("/actions", {"tactic": "learning_bit", "minutes": "10", "audience": "private",
                        "note": "wrong tactic", "occurred_at": then.isoformat()})  # fmt: skip
    m.post("/actions", {"tactic": "small_exposure", "minutes": "20", "audience": "team",
                        "note": "never happened"})  # fmt: skip
    project()
    html = m.page("/history")
    ids = re.findall(r'action="/history/([0-9a-f-]+)/correct"', html)
    assert len(ids) == 2 and "Correct or remove" in html
    old, mistake = ids[1], ids[0]  # newest first
    bad = m.post(f"/history/{old}/correct", {"tactic": "network_nudge", "minutes": "0",
                                              "audience": "team", "note": "coffee"})  # fmt: skip
    assert bad.status_code == 422
    assert "minutes-error" in bad.get_data(as_text=True) and '<details class="correct" open>' in (
        bad.get_data(as_text=True)
    )
    fixed = m.post(f"/history/{old}/correct", {"tactic": "network_nudge", "minutes": "30",
                                                "audience": "team", "note": "coffee"})  # fmt: skip
    assert fixed.status_code == 302 and "corrected=1" in fixed.headers["Location"]
    removed = m.post(f"/history/{mistake}/remove")
    assert removed.status_code == 302
    project()
    html = m.client.get(removed.headers["Location"]).get_data(as_text=True)
    assert "Removed" in html and "never happened" not in html and "wrong tactic" not in html
    assert "Network nudge" in html and "coffee" in html and "30 min" in html
    assert f"{then.day} {then:%b}, {then:%H:%M}" in html  # the corrected action keeps its moment
    assert journal_types(store, m) == ["MicroActionLogged", "MicroActionLogged",
                                       "MicroActionRetracted", "MicroActionLogged",
                                       "MicroActionRetracted"]  # fmt: skip
    assert m.post(f"/history/{old}/correct", {"tactic": "learning_bit", "minutes": "5",
                                               "audience": "team"}).status_code == 409  # fmt: skip


def test_invalid_action_shows_messages_and_writes_nothing(
    member: Callable[..., Member], store: EventStore
):
    m = member()
    response = m.post(
        "/actions", {"tactic": "bragging", "minutes": "ten", "audience": "team", "note": "kept"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "tactic").startswith("Must be one of")
    assert field_error(html, "minutes") == "Not a valid integer."
    assert 'value="kept"' in html  # what was typed is kept
    assert 'aria-invalid="true" aria-describedby="minutes-error"' in html
    assert journal_types(store, m) == []


def test_outcome_linked_to_an_action_counts_in_capital(
    member: Callable[..., Member], store: EventStore, project: Project
):
    m = member()
    m.post("/actions", {"tactic": "meeting_quick_win", "minutes": "10", "audience": "team"})
    project()
    html = m.page("/outcomes")
    action = re.search(r'<option value="([0-9a-f-]{36})"', html)
    assert action
    bad = m.post("/outcomes", {"kind": "promotion", "action_id": action.group(1)})
    assert bad.status_code == 422
    assert field_error(bad.get_data(as_text=True), "kind").startswith("Must be one of")
    response = m.post(
        "/outcomes", {"kind": "invitation", "action_id": action.group(1), "note": "planning"}
    )
    assert response.status_code == 302
    project()
    html = m.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Outcome recorded" in html and "credits Quick win in a meeting" in html
    capital = m.page("/capital")
    assert "Invitation</a>" in capital and "Your capital starts at zero" not in capital
    visibility = re.search(r'data-score="visibility">([\d.]+)<', capital)
    assert visibility and 0 < float(visibility.group(1)) < 100


def test_week_plan_is_ticked_off_by_actions(member: Callable[..., Member], project: Project):
    m = member()
    too_many = {f"tactic_{i}": "learning_bit" for i in range(6)}
    too_many["tactic_2"] = "daydreaming"
    bad = m.post("/plan", too_many)
    assert bad.status_code == 422
    assert field_error(bad.get_data(as_text=True), "tactic_2").startswith("Must be one of")
    saved = m.post(
        "/plan",
        {"tactic_0": "learning_bit", "label_0": "profiler", "tactic_3": "network_nudge"},
    )
    assert saved.status_code == 302
    m.post("/actions", {"tactic": "learning_bit", "minutes": "10", "audience": "private"})
    project()
    html = m.page("/plan")
    assert "1 of 2 done" in html
    assert "Learning bit: profiler" in html
    week = datetime.now(UTC).isocalendar().week
    assert f"Week {week}, " in html and iso_week_of(datetime.now(UTC)) not in html  # for people
    assert "no plan" in html  # past weeks: none planned


def test_saving_new_rows_replaces_the_plan_and_refuses_a_tactic_twice(
    member: Callable[..., Member], store: EventStore, project: Project
):
    m = member()
    first = {"tactic_0": "learning_bit", "tactic_1": "network_nudge", "tactic_2": "small_exposure"}
    assert m.post("/plan", first).status_code == 302
    project()
    html = m.page("/plan")
    assert "Saving replaces this week's plan of 3" in html
    assert ' value="learning_bit" selected' not in html  # no stale rows in the form
    assert ' value="learning_bit" selected' in m.page("/plan?edit=1")  # unless editing
    twice = m.post("/plan", {"tactic_0": "prototype_first", "tactic_4": "prototype_first"})
    assert twice.status_code == 422
    assert "choose each tactic once" in field_error(twice.get_data(as_text=True), "tactic_4")
    assert journal_types(store, m) == ["WeeklyPlanSet"]  # nothing written
    replaced = m.post("/plan", {"tactic_3": "prototype_first", "tactic_4": "meeting_quick_win"})
    assert replaced.status_code == 302
    project()
    html = m.page("/plan")
    assert "0 of 2 done" in html
    ticks = re.search(r'<ul class="ticks">(.*?)</ul>', html, re.S)
    assert ticks and "Prototype first" in ticks.group(1) and "Learning bit" not in ticks.group(1)


def test_experiment_start_and_end(member: Callable[..., Member], project: Project):
    m = member()
    bad = m.post("/experiments", {"tactic": "learning_bit", "weeks": "40"})
    assert bad.status_code == 422
    assert "weeks-error" in bad.get_data(as_text=True)
    started = m.post("/experiments", {"tactic": "prototype_first", "weeks": "4",
                                      "hypothesis": "prototypes get me into reviews"})  # fmt: skip
    assert started.status_code == 302
    project()
    html = m.client.get(started.headers["Location"]).get_data(as_text=True)
    assert "Experiment started" in html and "You expect: prototypes get me into reviews" in html
    experiment = re.search(r'action="/experiments/([0-9a-f-]+)/end"', html)
    assert experiment
    ended = m.post(f"/experiments/{experiment.group(1)}/end", {"reflection": "worth it"})
    assert ended.status_code == 302
    project()
    html = m.page("/experiments")
    assert "No experiment running" in html
    assert "You expected: prototypes get me into reviews" in html  # shown after it ended
    assert "You learned: worth it" in html
    again = m.post(f"/experiments/{experiment.group(1)}/end", {})
    assert again.status_code == 409


def test_an_experiment_compares_its_days_with_as_many_days_before(
    member: Callable[..., Member], project: Project
):
    m = member()
    now = datetime.now(UTC)
    for days_ago in (1, 5, 20, 30):  # invitations: 1 day ago during, 5 before, 20 and 30 long ago
        moment = (now - timedelta(days=days_ago)).isoformat()
        m.post("/outcomes", {"kind": "invitation", "occurred_at": moment})
    today = m.post("/experiments", {"tactic": "network_nudge", "weeks": "4"})
    assert today.status_code == 302
    project()
    html = m.page("/experiments")
    assert "Day 0: no change to show yet" in html and "▼" not in html  # day 0 compares nothing
    assert m.post("/experiments", {"tactic": "learning_bit", "weeks": "4"}).status_code == 409
    started = (now - timedelta(days=3)).date().isoformat()
    beside = m.post("/experiments", {"tactic": "learning_bit", "weeks": "4",
                                     "starts_on": started, "alongside": "1"})  # fmt: skip
    assert beside.status_code == 302
    project()
    html = m.page("/experiments")
    result = re.search(r'<table class="data compare">.*?</table>', html, re.S)
    assert result
    assert "The 3 whole days so far against the 3 days before" in result.group(0)
    row = re.search(
        r'<th scope="row">Invitations</th><td>(\d+)</td><td>(\d+)</td>', result.group(0)
    )
    assert row and row.groups() == ("1", "1")  # day -5 against day -1: like with like


def test_a_second_experiment_needs_the_choice_to_run_beside(
    member: Callable[..., Member], store: EventStore, project: Project
):
    m = member()
    assert m.post("/experiments", {"tactic": "network_nudge", "weeks": "4"}).status_code == 302
    project()
    assert "Run beside the current one" in m.page("/experiments")
    second = m.post("/experiments", {"tactic": "learning_bit", "weeks": "4"})
    assert second.status_code == 409
    assert "One experiment at a time" in field_error(second.get_data(as_text=True), "alongside")
    assert journal_types(store, m) == ["ExperimentStarted"]


def test_feedback_link_answered_without_login(app, member: Callable[..., Member], project: Project):
    m = member()
    bad = m.post("/feedback", {"question": "", "expires_in_days": "14"})
    assert bad.status_code == 422 and "question-error" in bad.get_data(as_text=True)
    asked = m.post("/feedback", {"question": "Was that summary useful?", "expires_in_days": "7"})
    assert asked.status_code == 302
    project()
    html = m.client.get(asked.headers["Location"]).get_data(as_text=True)
    link = re.search(r'id="new-link" class="link-box" value="([^"]+)"', html)
    assert link and "/f/" in link.group(1)
    path = "/f/" + link.group(1).split("/f/")[1]
    colleague = app.test_client()  # no session at all
    page = colleague.get(path).get_data(as_text=True)
    assert "Was that summary useful?" in page
    answer = colleague.post(
        path, data={"csrf_token": csrf_of(colleague, path), "useful": "yes", "comment": "clear"}
    )
    assert answer.status_code == 201
    project()
    html = m.page("/feedback")
    assert "✓ Useful" in html and "“clear”" in html


def test_feedback_link_names_the_asker_and_the_action_never_the_note(
    app, member: Callable[..., Member], store: EventStore
):
    m = member()  # "Robin"
    m.post("/actions", {"tactic": "meeting_quick_win", "minutes": "10", "audience": "team",
                        "note": "private words about Sam"})  # fmt: skip
    (logged,) = [e for e in store.read_stream(f"journal-{m.id}") if e.type == "MicroActionLogged"]
    asked = m.post(
        "/feedback",
        {"question": "Was my question helpful?", "expires_in_days": "7",
         "action_id": logged.data["action_id"]},
    )  # fmt: skip
    assert asked.status_code == 302
    (request,) = [e for e in store.read_stream(f"journal-{m.id}") if e.type == "FeedbackRequested"]
    with app.app_context():
        token = feedback_token(request.tenant_id, m.id, uuid.UUID(request.data["request_id"]))
    colleague = app.test_client()
    page = colleague.get(f"/f/{token}").get_data(as_text=True)
    with use_locale("en"):
        day = format_date(logged.occurred_at, "full")  # "Monday, 7 December 2026"
    assert f"Robin asks you about their “Quick win in a meeting” of {day}:" in page
    assert "Was my question helpful?" in page and "private words" not in page
    as_json = colleague.get(f"/f/{token}", headers={"Accept": "application/json"}).get_json()
    assert as_json["asked_by"] == "Robin"
    assert as_json["action"] == {
        "tactic": "meeting_quick_win",
        "occurred_on": logged.occurred_at.date().isoformat(),
    }
    assert "private words" not in json.dumps(as_json)
    plain = m.post("/feedback", {"question": "Any advice?", "expires_in_days": "7"})
    assert plain.status_code == 302
    (_, other) = [e for e in store.read_stream(f"journal-{m.id}") if e.type == "FeedbackRequested"]
    with app.app_context():
        token = feedback_token(other.tenant_id, m.id, uuid.UUID(other.data["request_id"]))
    assert "Robin asks you:" in colleague.get(f"/f/{token}").get_data(as_text=True)


def test_pulse_is_validated_then_sent_once(
    member: Callable[..., Member], org: DemoOrg, store: EventStore
):
    m = member()
    page = m.page("/pulse")
    assert "Anonymous, and why" in page
    team = re.search(r'name="team_id" value="([0-9a-f-]+)"', page)
    assert team and team.group(1) == str(org.teams["platform"])
    partial = m.post("/pulse", {"team_id": team.group(1), "workload": "3"})
    assert partial.status_code == 422
    assert field_error(partial.get_data(as_text=True), "ps1_mistakes_held_against")
    answers = {item: "5" for item in re.findall(r'name="(\w+)" value="5"', page)}
    assert len(answers) == 10
    sent = m.post("/pulse", {"team_id": team.group(1), **answers})
    assert sent.status_code == 302
    assert "You have answered this week's pulse" in m.page("/pulse")
    week = iso_week_of(datetime.now(UTC))
    events = store.read_stream(f"pulse-{team.group(1)}-{week}")
    assert str(m.id) not in json.dumps([e.data for e in events] + [e.metadata for e in events])
    changed = {**answers, "workload": "2"}  # the same answers again would simply be a replay
    again = m.post("/pulse", {"team_id": team.group(1), **changed})
    assert again.status_code == 409 and "answered this week" in again.get_data(as_text=True)


def session_of(app: Flask, m: Member) -> dict[str, Any]:
    """The member's session cookie, read as the gateway reads it (signed, not encrypted)."""
    cookie = m.client.get_cookie("session", domain=app.config["SERVER_NAME"])
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return dict(serializer.loads(cookie.value))


def test_password_change_and_tokens(app: Flask, client: FlaskClient, member: Callable[..., Member]):
    m = member()
    wrong = m.post(
        "/account/password",
        {"current_password": "nope", "new_password": "x" * 12, "confirm_password": "x" * 12},
    )
    assert wrong.status_code == 422
    assert field_error(wrong.get_data(as_text=True), "current_password")
    short = m.post(
        "/account/password",
        {"current_password": m.password, "new_password": "short", "confirm_password": "short"},
    )
    assert "at least 10" in field_error(short.get_data(as_text=True), "new_password")
    changed = m.post(
        "/account/password",
        {
            "current_password": m.password,
            "new_password": "a-brand-new-one",
            "confirm_password": "a-brand-new-one",
        },
    )
    assert changed.status_code == 302
    created = m.post("/account/tokens", {"name": "my script", "scopes": ["journal:read"]})
    assert created.status_code == 302  # post-redirect-get: a refresh creates nothing
    assert created.headers["Location"] == "/account#tok-title"
    carried = session_of(app, m)  # the token rides to the next page encrypted
    token = re.search(r'id="new-token" class="link-box" value="([^"]+)"', m.page("/account"))
    assert token
    assert token.group(1) not in json.dumps(carried) + created.headers["Location"]
    headers = {"Authorization": f"Bearer {token.group(1)}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    refreshed = m.page("/account")
    assert token.group(1) not in refreshed  # shown once only
    assert refreshed.count('action="/account/tokens/') == 1  # one token, no duplicate
    token_id = re.search(r'action="/account/tokens/([0-9a-f-]+)/revoke"', m.page("/account"))
    assert token_id
    assert m.post(f"/account/tokens/{token_id.group(1)}/revoke").status_code == 302
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert 'href="/calendar"' in m.page("/account")


def test_export_and_erase(app, member: Callable[..., Member], store: EventStore, org: DemoOrg):
    m = member()
    m.post("/actions", {"tactic": "learning_bit", "minutes": "10", "audience": "private",
                        "note": "my secret note"})  # fmt: skip
    exported = m.client.get("/data/export.json")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    assert "my secret note" in exported.get_data(as_text=True)
    exported_csv = m.client.get("/data/export.csv").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(exported_csv)))
    assert any(r["section"] == "actions" and r["note"] == "my secret note" for r in rows)

    unconfirmed = m.post("/data/erase", {"confirm": "yes"})
    assert unconfirmed.status_code == 422 and "confirm-error" in unconfirmed.get_data(True)
    assert m.page("/data")  # still here: nothing erased
    erased = m.post("/data/erase", {"confirm": "erase my data"})
    assert erased.status_code == 302 and erased.headers["Location"].endswith("/erased")
    assert "Your data has been erased" in m.client.get("/erased").get_data(as_text=True)
    assert m.client.get("/").status_code == 302  # logged out
    (logged,) = [e for e in store.read_stream(f"journal-{m.id}")]
    assert logged.data["note"] != "my secret note"  # crypto-shredded: reads as erased
    actor = Actor(tenant_id=org.tenant_id, person_id=m.id, source="test")
    with pytest.raises(Exception):  # noqa: B017 - an erased person cannot write any more
        JournalCommands(store, "s").log_action(actor, "learning_bit", 5, "team", note="again")


def test_manager_reaches_the_dashboards_in_one_click(app, org: DemoOrg):
    client = app.test_client()
    client.post(
        "/login",
        data={
            "csrf_token": csrf_of(client),
            "email": org.emails["platform-manager"],
            "password": org.password,
        },
    )
    html = client.get("/").get_data(as_text=True)
    assert 'href="/dashboards' in html
    employee = app.test_client()
    employee.post(
        "/login",
        data={
            "csrf_token": csrf_of(employee),
            "email": org.emails["platform-1"],
            "password": org.password,
        },
    )
    assert 'href="/dashboards' not in employee.get("/").get_data(as_text=True)


def test_a_four_weekly_pulse_says_when_the_next_one_opens(app: Any, store: EventStore):
    from shared.commands.settings import change_settings
    from shared.domain.weeks import next_pulse_period
    from tests.conftest import make_org
    from tests.portal.conftest import csrf_of

    org = make_org(store, people_per_team=1)  # its own organisation: the cadence is org-wide
    admin = Actor(tenant_id=org.tenant_id, person_id=org.admin, role="admin", source="test")
    change_settings(store, admin, 5, 4)
    client = app.test_client()
    login = {"email": org.emails["platform-1"], "password": org.password}
    assert client.post("/login", data={"csrf_token": csrf_of(client), **login}).status_code == 302
    page = client.get("/pulse").get_data(as_text=True)
    assert "Pulse (every 4 weeks)" in page
    answers = {item: "4" for item in re.findall(r'name="(\w+)" value="4"', page)}
    team = re.search(r'name="team_id" value="([0-9a-f-]+)"', page)
    assert team and len(answers) == 10
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    sent = client.post("/pulse", data={"csrf_token": token.group(1), "team_id": team.group(1),
                                       **answers})  # fmt: skip
    assert sent.status_code == 302
    after = client.get("/pulse").get_data(as_text=True)
    following = next_pulse_period(iso_week_of(datetime.now(UTC)), 4)
    with use_locale("en"):
        shown = format_week(following)  # "Week 1, 28 Dec - 3 Jan": no ISO code on a page
    assert f"It runs every 4 weeks: the next one opens in {shown}" in after
    assert 'name="team_id"' not in after  # no form until the next period
