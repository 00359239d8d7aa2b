"""The stand-in answers bad requests as Google and Microsoft document: forged or garbled page
tokens 400, forged or garbled sync / delta tokens 410 (a full sync, never a stuck one),
``syncToken`` with ``timeMin`` 400, malformed ``fields`` / ``$select`` 400, and never a 500.
And what crossed the wire to Compound's sync: no title, description, location or address."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import requests

from shared.calendar.providers import GOOGLE_SCOPE
from tests.calendar.clients import account, dance
from tests.calendar.conftest import CalendarWorld
from tests.calendar.test_oauth_misuse import person

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("loopback_http")]
WINDOW = {"timeMin": "2026-01-01T00:00:00Z", "timeMax": "2026-02-01T00:00:00Z"}


def forged(claims: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).decode()


FORGED_PAGES = [
    "not a token at all",
    forged([1, 2, 3]),
    forged({"e": 0}),  # decodes, lacks every other field
    forged({"e": 0, "a": None, "u": "x", "o": 0, "w": [None, None]}),
    forged({"e": 0, "a": None, "u": 0, "o": -5, "w": [None, None]}),
    forged({"e": 0, "a": None, "u": 0, "o": 0, "w": ["2026-01-01T00:00:00", None]}),  # naive
    forged({"e": 0, "a": None, "u": 0, "o": 0, "w": ["yesterday", None]}),
    forged({"e": 0, "a": None, "u": 0, "o": 0, "w": [None]}),
    forged({"e": True, "a": None, "u": 0, "o": 0, "w": [None, None]}),
]
FORGED_SYNCS = [
    "garbled!",
    forged({"e": 0}),
    forged({"e": "0", "s": 0}),
    forged({"e": 0, "s": -1}),
    forged({"e": 0, "s": 10**12}),  # a change that never happened
    forged({"e": 0, "s": 0, "x": []}),
]


@pytest.fixture(scope="module")
def tokens(world: CalendarWorld) -> dict[str, str]:
    with pytest.MonkeyPatch.context() as patch:  # (module scope: no monkeypatch fixture)
        patch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
        google = dance(world, account(), [GOOGLE_SCOPE])[1]["access_token"]
        graph = dance(world, account(), ["Calendars.ReadBasic"])[1]["access_token"]
    return {"google": google, "graph": graph}


def api(world: CalendarWorld, path: str, token: str, params: dict[str, Any]) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(f"{world.provider_url}{path}", params=params, headers=headers, timeout=10)


def google(world: CalendarWorld, token: str, **params: Any) -> requests.Response:
    return api(world, "/calendar/v3/calendars/primary/events", token, params)


def graph(world: CalendarWorld, token: str, **params: Any) -> requests.Response:
    return api(world, "/v1.0/me/calendarView/delta", token, params)


@pytest.mark.parametrize("page_token", FORGED_PAGES)
def test_a_forged_page_token_is_a_400(world: CalendarWorld, tokens: dict, page_token: str):
    answer = google(world, tokens["google"], pageToken=page_token)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == 400
    assert graph(world, tokens["graph"], **{"$skiptoken": page_token}).status_code == 400


@pytest.mark.parametrize("sync_token", FORGED_SYNCS)
def test_a_forged_sync_token_is_a_410(world: CalendarWorld, tokens: dict, sync_token: str):
    answer = google(world, tokens["google"], syncToken=sync_token)
    assert answer.status_code == 410
    assert answer.json()["error"]["errors"][0]["reason"] == "fullSyncRequired"
    assert graph(world, tokens["graph"], **{"$deltatoken": sync_token}).status_code == 410


def test_google_refuses_what_it_documents_refusing(world: CalendarWorld, tokens: dict):
    token = tokens["google"]
    sync_token = google(world, token, maxResults=2500, **WINDOW).json()["nextSyncToken"]
    assert google(world, token, syncToken=sync_token).status_code == 200
    for name in ("timeMin", "timeMax", "updatedMin", "q", "orderBy"):
        refused = google(world, token, syncToken=sync_token, **{name: WINDOW["timeMin"]})
        assert refused.status_code == 400, name
    for fields in ("items(id", "items()", ",", "items(id,)", "a//b"):
        assert google(world, token, fields=fields).status_code == 400, fields
    assert google(world, token, timeMin="last tuesday").status_code == 400
    trimmed = google(world, token, fields="nextSyncToken,items/id", **WINDOW).json()
    assert set(trimmed) <= {"nextSyncToken", "items"}
    assert all(set(item) == {"id"} for item in trimmed.get("items", []))


def test_graph_reads_parameters_case_insensitively_and_checks_select(world, tokens: dict):
    token = tokens["graph"]
    lower = graph(world, token, startdatetime="2026-01-01T00:00:00", enddatetime="2026-02-01")
    upper = graph(world, token, STARTDATETIME="2026-01-01T00:00:00", EndDateTime="2026-02-01")
    assert lower.status_code == upper.status_code == 200
    assert lower.json()["value"] == upper.json()["value"]
    unknown = graph(world, token, startDateTime="2026-01-01", endDateTime="2026-02-01",
                    **{"$select": "subject,secretField"})  # fmt: skip
    assert unknown.status_code == 400
    bad_time = graph(world, token, startDateTime="soon", endDateTime="2026-02-01")
    assert bad_time.status_code == 400


def exchanged(world: CalendarWorld, prefix: str) -> list[tuple[str, bytes]]:
    return [(uri, body) for uri, body in world.wire.exchanges if uri.startswith(prefix)]


def test_what_crossed_the_wire_to_compound_holds_no_title_or_address(world: CalendarWorld):
    who = person(world)
    world.wire.exchanges.clear()
    _, connection_id = world.connect(who)
    assert world.sync_service().sync(connection_id).observed > 20
    listed = world.provider_events(who)
    secrets_ = {m["summary"] for m in listed} | {m["description"] for m in listed}
    secrets_ |= {m["location"] for m in listed if m["location"]}
    secrets_ |= {a[0] for m in listed for a in m["attendees"]}  # the person's own, too
    wire = exchanged(world, "/calendar/v3/")
    assert len(wire) > 2 and len(secrets_) > 30  # (the test can fail)
    assert all("fields=" in uri for uri, _ in wire)
    text = b"\n".join(body for _, body in wire).decode()
    assert [s for s in secrets_ if s in text] == []
    assert '"attendees"' in text and '"responseStatus"' in text  # counted, not named


def test_graph_on_the_wire_holds_no_title_body_location_or_organizer(world: CalendarWorld):
    who = person(world)
    world.register(who)
    connection_id = world.connect_directly(who, "Calendars.Read offline_access")
    world.wire.exchanges.clear()
    assert world.sync_service("graph").sync(connection_id).observed > 20
    listed = world.provider_events(who)
    texts = {m["summary"] for m in listed} | {m["description"] for m in listed}
    texts |= {m["location"] for m in listed if m["location"]}
    wire = exchanged(world, "/v1.0/")
    body = b"\n".join(b for _, b in wire).decode()
    assert len(wire) > 2 and [t for t in texts if t in body] == []
    events = [e for _, b in wire for e in json.loads(b)["value"]]
    assert not any({"subject", "bodyPreview", "location", "organizer"} & set(e) for e in events)


def test_a_garbled_stored_sync_token_means_a_full_resync_not_a_stuck_sync(world: CalendarWorld):
    who = person(world)
    _, connection_id = world.connect(who)
    sync = world.sync_service()
    first = sync.sync(connection_id)
    stream = f"calendar-{world.org.people[who]}"
    count = len(list(world.store.read_stream(stream)))
    with world.store.engine.begin() as db:
        db.exec_driver_sql(
            "UPDATE calendar_connections SET sync_token = %s WHERE id = %s",
            (forged({"e": 0}), connection_id),
        )

    report = sync.sync(connection_id)

    assert report.status == "synced" and report.resynced and report.seen >= first.observed
    assert report.observed == 0 and len(list(world.store.read_stream(stream))) == count
