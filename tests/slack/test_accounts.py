"""Installing the app (OAuth v2 through the stand-in, the bot token sealed), linking a Slack
account (Slack's verified address and the person's own confirmation), unlinking from either
side, and another organisation's workspace kept out."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import orjson
import pytest
import requests
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from shared.chat.signing import sign
from shared.commands import Actor, OrganizationCommands
from shared.eventlog.events_chat import link_stream
from tests.conftest import make_org
from tests.slack.conftest import SlackWorld, csrf_of, install, link, login, new_team_id

pytestmark = pytest.mark.integration


class TwoHoursAgo(TimestampSigner):
    """Signs as if it were two hours ago (a link token past its hour)."""

    def get_timestamp(self) -> int:
        return int(time.time()) - 7200


def prompt_path(world: SlackWorld, user_id: str) -> str:
    text = world.command(user_id).get_json()["text"]
    found = re.search(r"<https?://[^/]+(/slack/link/[^|]+)\|", text)
    assert found, text
    return found.group(1)


def test_installing_keeps_the_bot_token_sealed_and_appends_the_event(world: SlackWorld):
    installed = world.events(("SlackAppInstalled",))
    assert [e.data["team_id"] for e in installed] == [world.team_id]
    assert installed[0].data["installed_by"] == str(world.org.admin)
    with world.store.engine.connect() as db:
        sealed = db.exec_driver_sql(
            "SELECT bot_token FROM slack_installations WHERE team_id = %s", (world.team_id,)
        ).scalar_one()
    assert b"xoxb-" not in bytes(sealed)
    assert world.installations.get(world.team_id).bot_token.startswith("xoxb-")


def test_only_an_admin_installs_and_the_state_must_match(world: SlackWorld):
    employee = login(world.app, world.org.emails["platform-1"], world.org.password)
    assert employee.get("/slack/install").status_code == 404
    admin = login(world.app, world.org.emails["admin"], world.org.password)
    forged = admin.get("/slack/oauth/callback?code=whatever&state=forged")
    assert forged.status_code == 400
    assert len(world.events(("SlackAppInstalled",))) == 1


def test_a_workspace_serves_one_organisation(world: SlackWorld):
    other = make_org(world.store)
    admin = login(world.app, other.emails["admin"], other.password)
    start = admin.get("/slack/install")
    consent = requests.get(start.headers["Location"] + f"&team={world.team_id}",
                           allow_redirects=False, timeout=10)  # fmt: skip
    back = urlsplit(consent.headers["Location"])
    answer = admin.get(f"{back.path}?{back.query}")
    assert answer.status_code == 409
    assert world.installations.get(world.team_id).tenant_id == world.org.tenant_id


def test_linking_needs_the_verified_address_and_the_persons_confirmation(world: SlackWorld):
    world.add_slack_user("U0ADA", world.org.emails["platform-1"])
    path = prompt_path(world, "U0ADA")
    person = login(world.app, world.org.emails["platform-1"], world.org.password)
    page = person.get(path)
    assert page.status_code == 200
    assert "Link Slack account U0ADA of workspace" in page.get_data(as_text=True)
    assert world.installations.link_of(world.team_id, "U0ADA") is None  # not by looking
    confirmed = person.post(path, data={"csrf_token": csrf_of(person, path)})
    assert confirmed.status_code == 302
    found = world.installations.link_of(world.team_id, "U0ADA")
    assert found is not None and found.person_id == world.org.people["platform-1"]
    linked = world.store.read_stream(link_stream(world.org.people["platform-1"]))
    assert [(e.type, e.data["slack_user_id"]) for e in linked] == [("SlackAccountLinked", "U0ADA")]


@pytest.mark.parametrize("case", ["someone else's address", "unconfirmed address"])
def test_no_link_without_a_verified_matching_address(world: SlackWorld, case: str):
    if case == "someone else's address":
        world.add_slack_user("U0EVE", world.org.emails["platform-2"])
    else:
        world.add_slack_user("U0EVE", world.org.emails["platform-1"], confirmed=False)
    path = prompt_path(world, "U0EVE")
    person = login(world.app, world.org.emails["platform-1"], world.org.password)
    refused = person.post(path, data={"csrf_token": csrf_of(person, path)})
    assert refused.status_code == 403
    assert world.installations.link_of(world.team_id, "U0EVE") is None
    assert world.events(("SlackAccountLinked",)) == []


def test_a_tampered_or_expired_link_links_nothing(world: SlackWorld):
    world.add_slack_user("U0OLD", world.org.emails["platform-1"])
    path = prompt_path(world, "U0OLD")
    person = login(world.app, world.org.emails["platform-1"], world.org.password)
    token = path.rsplit("/", 1)[1]
    tampered = "/slack/link/" + token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert person.get(tampered).status_code == 404
    secret = world.resources.settings.require_secret_key()
    old = URLSafeTimedSerializer(secret, salt="slack-link", signer=TwoHoursAgo)
    stale = old.dumps({"team": world.team_id, "user": "U0OLD"})
    expired = person.post(f"/slack/link/{stale}", data={"csrf_token": csrf_of(person)})
    assert expired.status_code == 410
    assert world.installations.link_of(world.team_id, "U0OLD") is None


def test_another_organisations_person_cannot_take_the_link(world: SlackWorld):
    other = make_org(world.store)
    other_team = new_team_id()
    install(world.app, other, other_team)
    world.add_slack_user("U0TWIN", other.emails["platform-1"])
    path = prompt_path(world, "U0TWIN")  # a user of *our* workspace
    outsider = login(world.app, other.emails["platform-1"], other.password)
    assert outsider.get(path).status_code == 404
    answer = outsider.post(path, data={"csrf_token": csrf_of(outsider)})
    assert answer.status_code == 404
    assert world.installations.link_of(world.team_id, "U0TWIN") is None


def test_unlinking_from_the_portal_and_from_slack(world: SlackWorld):
    first = link(world, "platform-1")
    person = login(world.app, world.org.emails["platform-1"], world.org.password)
    assert f'data-link="{world.team_id}"' in person.get("/slack").get_data(as_text=True)
    person.post("/slack/unlink", data={"csrf_token": csrf_of(person), "team_id": world.team_id})
    assert world.installations.link_of(world.team_id, first) is None

    second = link(world, "platform-1")
    answer = world.command(second, "unlink", at=int(time.time()) + 1)
    assert answer.get_json()["response_type"] == "ephemeral"
    assert [kind for kind, _ in world.drain()] == ["unlink"]
    assert world.installations.link_of(world.team_id, second) is None
    unlinked = world.events(("SlackAccountUnlinked",))
    assert [e.data["by"] for e in unlinked] == ["person", "slack"]
    told = [s for s in world.sent() if s["method"] == "chat.postMessage"]
    assert [s["args"]["channel"] for s in told] == ["D" + second[1:]]


def test_erasure_forgets_the_link_and_the_export_holds_it(world: SlackWorld):
    user_id = link(world, "payments-1")
    headers = world.org.headers(world.app.test_client(), "payments-1")
    exported = world.app.test_client().get("/api/v1/me/export", headers=headers)
    assert exported.status_code == 200
    assert f'"slack_user_id": "{user_id}"' in exported.get_data(as_text=True)
    admin = Actor(tenant_id=world.org.tenant_id, person_id=world.org.admin, role="admin")
    OrganizationCommands(world.store).erase(admin, world.org.people["payments-1"])
    assert world.installations.link_of(world.team_id, user_id) is None
    with world.store.engine.connect() as db:
        left = db.exec_driver_sql(
            "SELECT count(*) FROM slack_links WHERE slack_user_id = %s", (user_id,)
        ).scalar_one()
    assert left == 0
    linked = world.store.read_stream(link_stream(world.org.people["payments-1"]))
    assert linked[0].data["slack_user_id"] != user_id  # shredded with the key


def test_uninstalling_in_slack_forgets_the_workspace(world: SlackWorld):
    user_id = link(world, "platform-1")
    event = {
        "type": "event_callback",
        "team_id": world.team_id,
        "api_app_id": "A0STANDIN",
        "event_id": "Ev0UNINSTALL",
        "event": {"type": "app_uninstalled"},
    }
    body = orjson.dumps(event)
    secret = world.resources.settings.slack.signing_secret or ""
    for retry, at in ((None, int(time.time())), ("1", int(time.time()) + 1)):
        headers = sign(secret, body, at) | ({"X-Slack-Retry-Num": retry} if retry else {})
        answer = world.app.test_client().post(
            "/slack/events", data=body, headers=headers, content_type="application/json"
        )
        assert answer.status_code == 200
    world.drain()
    assert world.installations.get(world.team_id) is None
    assert world.installations.link_of(world.team_id, user_id) is None
    gone = world.events(("SlackAppUninstalled",))
    assert [(e.data["team_id"], e.data["reason"]) for e in gone] == [(world.team_id, "uninstalled")]
    assert "not installed" in world.command(user_id).get_json()["text"]


def test_the_account_page_leads_to_slack(world: SlackWorld):
    person = login(world.app, world.org.emails["platform-1"], world.org.password)
    assert 'href="/slack"' in person.get("/account").get_data(as_text=True)
    page = person.get("/slack").get_data(as_text=True)
    assert f'data-workspace="{world.team_id}"' in page
    assert "Install in a Slack workspace" not in page  # an admin's
