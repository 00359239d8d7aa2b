"""A corpus of hostile input, sent to the API and the pages: no 5xx, every error a
problem+json (API) with per-field messages where a field is to blame, stored text read back
byte for byte and always rendered escaped in pages."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from shared.domain.weeks import iso_week_of
from shared.eventlog import EventStore
from shared.projections import PROJECTIONS, runtime
from tests.api.conftest import Headers, Person, assert_problem
from tests.conftest import DemoOrg
from tests.reliability.report import Figures
from tests.security.pages import log_in

pytestmark = pytest.mark.integration

ACTION = {"tactic": "learning_bit", "minutes": 10, "audience": "team"}

# Text a person may legitimately type: stored as typed, shown as typed, never interpreted.
STORABLE_NOTES = [
    "'; DROP TABLE events; --",
    "1' OR '1'='1",
    "Robert'); DELETE FROM people WHERE ('1'='1",
    "$$; SELECT pg_sleep(10); $$",
    "{{ 7*7 }} {% raw %}${7*7}",
    "🚀👩🏽‍💻🇺🇦 emoji and ZWJ sequences",
    "مرحبا بالعالم — עברית — right to left \u202eevil\u202c",
    "e\u0301 (combining) \ufeff BOM \u200b zero width",
    "\\x00 is not a NUL, %00 neither",
    "line\nbreaks\r\nand\ttabs",
    "x" * 2000,  # the longest note allowed
    # Last, so that they are among the most recent entries every page shows:
    '"><img src=x onerror=alert(1)>',
    "<script>alert('xss')</script>",
]

# Time stamps at the edges: none may be a 500 (overflow on conversion to UTC is the trap).
EDGE_TIMES = [
    "2026-11-25T23:59:59+14:00",
    "2026-11-25T00:00:00-12:00",
    "2026-11-25T12:00:00+23:59",
    "2026-11-25T12:00:00-23:59",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-12:00",
    "1970-01-01T00:00:00Z",
    "2038-01-19T03:14:08Z",
    "2026-02-29T10:00:00Z",
    "2026-11-25T10:00:00",  # no offset
    "2026-11-25T25:61:61Z",
    "not a date",
    "",
]

ISO_WEEKS = [
    (iso_week_of(datetime.now(UTC)), True),
    # 2026 and 2020 have a week 53 (they start on a Thursday), but whether it lies in the
    # organisation's span (two years back to tomorrow) depends on the day the test runs:
    # tests/api/test_bounds.py checks the span.
    ("2026-W53", None),
    ("2020-W53", None),
    ("2025-W53", False),  # 2025 has 52 weeks
    ("2026-W00", False),
    ("2026-W54", False),
    ("0000-W01", False),
    ("9999-W52", None),  # a valid week; refusing it (too far ahead) is fine too
    ("0001-W01", None),
    ("2026-W5", False),
    ("2026W01", False),
    ("%00", False),
    ("2026-W01'; DROP TABLE events; --", False),
]


def assert_no_server_error(response: Any) -> None:
    """Below 500, and an error is problem+json."""
    text = response.get_data(as_text=True)[:300]
    assert response.status_code < 500, text
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json", text
        body = response.get_json()
        assert {"type", "title", "status", "detail"} <= body.keys(), body


@pytest.fixture
def author(new_person: Callable[..., Person]) -> Person:
    return new_person()


def exported_notes(client: FlaskClient, headers: Headers) -> list[str]:
    response = client.get("/api/v1/me/export", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    text = json.dumps(response.get_json(), ensure_ascii=False)
    return [note for note in STORABLE_NOTES if json.dumps(note, ensure_ascii=False) in text]


def test_storable_text_is_stored_exactly_and_rendered_escaped(
    client: FlaskClient, author: Person, store: EventStore, figures: Figures
) -> None:
    for note in STORABLE_NOTES:
        body = {**ACTION, "note": note}
        response = client.post("/api/v1/actions", json=body, headers=author.headers)
        assert response.status_code == 201, (note[:40], response.get_data(as_text=True)[:300])
        response = client.post(
            "/api/v1/outcomes", json={"kind": "recognition", "note": note}, headers=author.headers
        )
        assert response.status_code == 201, (note[:40], response.get_data(as_text=True)[:300])
    # Read back through the API (decrypted from the log): every note byte for byte.
    assert exported_notes(client, author.headers) == STORABLE_NOTES

    # Every page of the author's portal: markup in notes arrives escaped, never as markup.
    rt = runtime(store)  # the projection worker's part: the pages read the read models
    for projection in PROJECTIONS:
        rt.catch_up(projection.name)
    log_in(client, author.email, author.password)
    pages = ["/", "/history", "/outcomes", "/feedback", "/capital", "/plan", "/data"]
    shown_escaped = 0
    for path in pages:
        response = client.get(path)
        assert response.status_code < 500, path
        html = response.get_data(as_text=True)
        assert "<script>alert('xss')</script>" not in html, path
        assert "<img src=x onerror" not in html, path
        shown_escaped += "&lt;script&gt;alert(" in html
    assert shown_escaped >= 1, "no page shows the notes: the escaping was not checked"
    figures.record(
        "hostile-text",
        "Bad input",
        "SQL and HTML injection strings, emoji, right-to-left and combining text in notes: "
        "stored and read back exactly, rendered escaped on every portal page",
        "tests/security/test_hostile_input.py",
        notes_tried=len(STORABLE_NOTES),
        read_back_exactly=len(STORABLE_NOTES),
        pages_checked=len(pages),
        pages_showing_the_markup_escaped=shown_escaped,
    )


@pytest.mark.parametrize(
    "note", ["NUL \x00 inside", "\x00", "tab\tthen NUL\x00"], ids=["inside", "only", "after-tab"]
)
def test_nul_characters_are_refused_per_field(
    client: FlaskClient, author: Person, note: str
) -> None:
    response = client.post("/api/v1/actions", json={**ACTION, "note": note}, headers=author.headers)
    assert_problem(response, 422, "note")


@pytest.mark.parametrize("stamp", EDGE_TIMES)
def test_times_at_the_edges_never_fail_the_server(
    client: FlaskClient, author: Person, stamp: str
) -> None:
    for path, body in (
        ("/api/v1/actions", {**ACTION, "occurred_at": stamp}),
        ("/api/v1/outcomes", {"kind": "assignment", "occurred_at": stamp}),
    ):
        response = client.post(path, json=body, headers=author.headers)
        assert_no_server_error(response)
        if response.status_code == 422:
            assert "occurred_at" in response.get_json().get("errors", {}), response.get_json()


@pytest.mark.parametrize(("week", "valid"), ISO_WEEKS)
def test_iso_weeks_at_the_edges(
    client: FlaskClient, author: Person, week: str, valid: bool | None
) -> None:
    plan = {"actions": [{"tactic": "learning_bit", "label": "ten minutes with a new tool"}]}
    posted = client.post(f"/api/v1/plans/{week}", json=plan, headers=author.headers)
    read = client.get(f"/api/v1/me/plan/{week}", headers=author.headers)
    for response in (posted, read):
        assert_no_server_error(response)
    if valid is True:
        assert posted.status_code == 201, posted.get_json()
        assert read.status_code == 200, read.get_json()
    elif valid is False:
        assert posted.status_code in (404, 422), posted.get_json()
        assert read.status_code in (404, 422), read.get_json()


def raw_post(client: FlaskClient, path: str, data: bytes, headers: Headers) -> Any:
    return client.post(path, data=data, headers={**headers, "Content-Type": "application/json"})


MALFORMED_BODIES = {
    "huge": b'{"note": "' + b"x" * (2 * 1024 * 1024) + b'"}',
    "deeply-nested-array": b"[" * 200_000 + b"]" * 200_000,
    "deeply-nested-object": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "nested-in-a-field": b'{"tactic": "learning_bit", "minutes": 10, "audience": "team", "note": '
    + b"[" * 50_000
    + b"]" * 50_000
    + b"}",
    "invalid-utf8": b'{"tactic": "\xff\xfe\xfd", "minutes": 10, "audience": "team"}',
    "overlong-utf8": b'{"tactic": "\xc0\xaf", "minutes": 10, "audience": "team"}',
    "lone-surrogate": b'{"tactic": "learning_bit", "minutes": 10, "audience": "team", '
    b'"note": "\\ud800"}',
    "nul-bytes": b'{"tactic": "learning_bit",\x00 "minutes": 10}',
    "truncated": b'{"tactic": "learning_bit", "minu',
    "not-json": b"<xml>hello</xml>",
    "empty": b"",
    "json-null": b"null",
    "json-array": b"[1, 2, 3]",
    "huge-number": b'{"tactic": "learning_bit", "minutes": 1'
    + b"0" * 5000
    + b', "audience": "team"}',
    "nan": b'{"tactic": "learning_bit", "minutes": NaN, "audience": "team"}',
    "duplicate-keys": b'{"minutes": 10, "minutes": "ten", "tactic": "learning_bit", '
    b'"audience": "team"}',
    "unknown-field": b'{"tactic": "learning_bit", "minutes": 10, "audience": "team", '
    b'"person_id": "00000000-0000-0000-0000-000000000000"}',
}

WRITE_PATHS = [
    "/api/v1/actions",
    "/api/v1/outcomes",
    "/api/v1/plans/2026-W48",
    "/api/v1/experiments",
    "/api/v1/feedback-requests",
    "/api/v1/pulse",
    "/api/v1/events:import",
    "/api/v1/auth/token",
]


@pytest.mark.parametrize("kind", sorted(MALFORMED_BODIES))
def test_malformed_bodies_get_a_problem_never_a_5xx(
    client: FlaskClient, author: Person, kind: str
) -> None:
    body = MALFORMED_BODIES[kind]
    for path in WRITE_PATHS:
        response = raw_post(client, path, body, author.headers)
        assert_no_server_error(response)
        if kind != "unknown-field" or path != "/api/v1/actions":
            continue
        assert_problem(response, 422, "person_id")
    if kind == "huge":
        assert raw_post(client, "/api/v1/actions", body, author.headers).status_code == 413


HOSTILE_HEADERS: list[dict[str, str]] = [
    {"Idempotency-Key": "k" * 10_000},
    {"Idempotency-Key": "'; DROP TABLE idempotency; --"},
    {"Idempotency-Key": "🚀"},
    {"X-Request-ID": "<script>alert(1)</script>"},
    {"X-Request-ID": "x" * 5000},
    {"Authorization": "Bearer " + "a" * 5000},
    {"Authorization": "Bearer ' OR 1=1 --"},
    {"Authorization": "Basic YWRtaW46YWRtaW4="},
    {"Authorization": "Bearer"},
    {"Content-Type": "application/json; charset=latin-1"},
    {"Content-Type": "text/plain"},
    {"Accept": "text/html"},
]


@pytest.mark.parametrize("extra", HOSTILE_HEADERS, ids=lambda h: next(iter(h)))
def test_hostile_headers_get_a_problem_never_a_5xx(
    client: FlaskClient, author: Person, extra: dict[str, str]
) -> None:
    headers = {**author.headers, **extra}
    response = client.post("/api/v1/actions", json=ACTION, headers=headers)
    assert_no_server_error(response)
    assert "<script>" not in response.headers.get("X-Request-ID", "")


HOSTILE_PATHS = [
    "/api/v1/me/plan/%00",
    "/api/v1/me/plan/" + "9" * 5000,
    "/api/v1/teams/%27%3B%20DROP%20TABLE%20teams%3B--/levers",
    f"/api/v1/teams/{uuid.uuid4()}/levers?from=2026-W53&to=0001-W01",
    f"/api/v1/teams/{uuid.uuid4()}/levers?from=%00&to=9999-W99",
    "/api/v1/me/capital?min_position=-1",
    "/api/v1/me/capital?min_position=99999999999999999999999999",
    "/api/v1/me/capital?min_position=%00",
    "/api/v1/people/not-a-uuid",
    "/api/v1/../../etc/passwd",
    "/static/../../../../etc/passwd",
    "/api/v1/docs/assets/../../../../etc/passwd",
    "/f/" + "A" * 4000,
    "/f/%00%ff",
    "/invite/<script>",
]


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_hostile_paths_and_queries_never_fail_the_server(
    client: FlaskClient, author: Person, path: str
) -> None:
    response = client.get(path, headers=author.headers)
    text = response.get_data(as_text=True)
    assert response.status_code < 500, text[:300]
    assert "root:x:0:0" not in text
    if path.startswith("/api/") and response.status_code >= 400:
        assert response.mimetype == "application/problem+json", text[:300]


def test_hostile_form_input_on_the_login_page(client: FlaskClient) -> None:
    """Pages answer bad input with messages next to the fields, never a 5xx."""
    from tests.security.pages import csrf_token

    token = csrf_token(client.get("/login").get_data(as_text=True))
    for email, password in (
        ("a\x00b@demo.test", "x"),
        ("<script>alert(1)</script>", "x"),
        ("' OR '1'='1' --", "' OR '1'='1' --"),
        ("x" * 10_000 + "@demo.test", "p" * 10_000),
        ("🚀@demo.test", "مرحبا"),
    ):
        response = client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )
        html = response.get_data(as_text=True)
        assert response.status_code in (401, 422, 429), html[:300]
        assert "<script>alert(1)</script>" not in html


@pytest.mark.parametrize(
    "day", ["0001-01-01", "9999-12-31", "2026-02-29", "2024-02-29", "2026-13-01", "-001-01-01"]
)
def test_experiment_start_dates_at_the_edges(client: FlaskClient, author: Person, day: str) -> None:
    body = {"tactic": "network_nudge", "weeks": 12, "starts_on": day}
    response = client.post("/api/v1/experiments", json=body, headers=author.headers)
    assert_no_server_error(response)
    if response.status_code == 422:
        assert "starts_on" in response.get_json().get("errors", {}), response.get_json()


@pytest.mark.parametrize("stamp", ["2026-11-25T12:00:00+23:59", "9999-12-31T23:59:59-12:00"])
def test_imported_times_at_the_edges(
    client: FlaskClient, org: DemoOrg, headers_of: Callable[[str], Headers], stamp: str
) -> None:
    person = org.people["payments-1"]
    event = {
        "type": "MicroActionLogged",
        "occurred_at": stamp,
        "data": {
            "action_id": str(uuid.uuid4()),
            "person_id": str(person),
            "tactic": "learning_bit",
            "minutes": 5,
            "audience": "team",
            "note": None,
        },
    }
    response = client.post(
        "/api/v1/events:import", json={"events": [event]}, headers=headers_of("admin")
    )
    assert_no_server_error(response)
