"""The caller's journal read models through the API: experiments, feedback, weekly plans.

Each test writes through the API, projects as a worker would when woken, then reads with
``?min_position=`` (read-your-writes). The log is shared by the whole session, so every test
works with people of its own (``new_person``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from shared.domain.weeks import iso_week_of, week_start
from shared.eventlog import EventStore
from shared.projections import runtime
from shared.read_tokens import PositionTokens
from tests.api.conftest import Headers, Person, assert_problem
from tests.conftest import TEST_SECRET

pytestmark = pytest.mark.integration

JOURNAL = ("experiments", "feedback_loop", "plan_progress")
ACTION = {"tactic": "small_exposure", "minutes": 20, "audience": "team"}


def project(store: EventStore) -> None:
    """What the worker does when woken."""
    rt = runtime(store)
    for name in JOURNAL:
        rt.catch_up(name)


def post(client: FlaskClient, person: Person, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/v1{path}", headers=person.headers, json=body)
    assert response.status_code in (200, 201), response.get_json()
    return dict(response.get_json())


def days_from(now: datetime, days: int) -> str:
    return (now + timedelta(days=days)).isoformat()


def read(
    client: FlaskClient, person: Person, path: str, min_position: str | None
) -> dict[str, Any]:
    """A read that waits for ``min_position`` (a write's token) and reflects it."""
    query = f"?min_position={min_position}" if min_position else ""
    response = client.get(f"/api/v1{path}{query}", headers=person.headers)
    assert response.status_code == 200, response.get_json()
    body = dict(response.get_json())
    tokens = PositionTokens(TEST_SECRET)
    assert person.tenant_id is not None
    reached = tokens.open(person.tenant_id, body["as_of_position"])
    assert reached >= tokens.open(
        person.tenant_id, min_position or tokens.seal(person.tenant_id, 0)
    )
    assert body["model_version"] == 1
    return body


def test_my_experiments_compare_with_the_weeks_before(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person]
):
    me = new_person()
    now = datetime.now(UTC)
    starts_on = (now - timedelta(days=14)).date()
    post(client, me, "/outcomes", {"kind": "invitation", "occurred_at": days_from(now, -20)})
    experiment = post(
        client, me, "/experiments", {"tactic": "prototype_first", "starts_on": str(starts_on)}
    )
    post(client, me, "/outcomes", {"kind": "assignment", "occurred_at": days_from(now, -3)})
    post(client, me, "/outcomes", {"kind": "useful_feedback", "occurred_at": days_from(now, -2)})
    written = post(client, me, f"/experiments/{experiment['experiment_id']}/end", {})
    project(store)

    body = read(client, me, "/me/experiments", written["position"])
    (mine,) = body["experiments"]
    assert mine["experiment_id"] == experiment["experiment_id"]
    assert mine["tactic"] == "prototype_first" and mine["weeks"] == 4
    assert mine["starts_on"] == str(starts_on)
    assert mine["ends_on"] == str(starts_on + timedelta(weeks=4))
    assert mine["status"] == "ended" and mine["ended_at"] is not None
    assert mine["period_complete"] is False
    comparison = mine["comparison"]
    assert comparison["before"] == {
        "starts_on": str(starts_on - timedelta(weeks=4)),
        "ends_on": str(starts_on),
    }
    assert comparison["invitations"] == {
        "before": 1,
        "during": 0,
        "difference": -1,
        "direction": "down",
    }
    assert comparison["assignments"]["direction"] == "up"
    assert comparison["useful_feedback"] == {
        "before": 0,
        "during": 1,
        "difference": 1,
        "direction": "up",
    }


def test_my_feedback_loop(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person]
):
    me = new_person()
    answered = post(client, me, "/feedback-requests", {"question": "Was that summary useful?"})
    post(client, me, "/feedback-requests", {"question": "Was my update clear?"})
    response = client.post(urlsplit(answered["link"]).path, json={"useful": True})
    assert response.status_code == 201, response.get_json()
    project(store)

    assert me.tenant_id is not None
    body = read(
        client, me, "/me/feedback", PositionTokens(TEST_SECRET).seal(me.tenant_id, store.head())
    )
    assert (body["requests"], body["answers"], body["useful"]) == (2, 1, 1)
    assert body["response_rate"] == 0.5 and body["usefulness_rate"] == 1.0
    items = {item["question"]: item for item in body["items"]}
    assert set(items) == {"Was that summary useful?", "Was my update clear?"}
    first = items["Was that summary useful?"]
    assert first["request_id"] == answered["request_id"]
    assert first["status"] == "answered" and first["useful"] is True
    assert first["answered_at"] is not None and first["action_id"] is None
    assert items["Was my update clear?"]["status"] == "open"


def test_my_weekly_plan_and_its_progress(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person]
):
    me = new_person()
    week = iso_week_of(datetime.now(UTC) - timedelta(days=7))
    tuesday = datetime.combine(week_start(week) + timedelta(days=1), time(10), UTC)
    done = {"tactic": "learning_bit", "minutes": 10, "audience": "private"}
    post(client, me, "/actions", {**done, "occurred_at": tuesday.isoformat()})  # before the plan
    written = post(
        client,
        me,
        f"/plans/{week}",
        {
            "actions": [
                {"tactic": "learning_bit", "label": "Ten minutes with the profiler"},
                {"tactic": "network_nudge"},
            ]
        },
    )
    project(store)

    body = read(client, me, f"/me/plan/{week}", written["position"])
    assert body["week"] == week and (body["planned"], body["done"]) == (2, 1)
    assert body["items"] == [
        {"tactic": "learning_bit", "label": "Ten minutes with the profiler", "done": True},
        {"tactic": "network_nudge", "label": None, "done": False},
    ]
    assert body["actions"] == {"learning_bit": 1}


def test_a_week_without_a_plan_is_an_empty_plan(
    client: FlaskClient, new_person: Callable[..., Person]
):
    body = read(client, new_person(), "/me/plan/2026-W01", None)
    assert body == {**body, "week": "2026-W01", "planned": 0, "done": 0, "items": [], "actions": {}}


@pytest.mark.parametrize("week", ["2026-W60", "2026-W00", "2026-47", "2021-W53", "week"])
def test_an_invalid_week_is_a_problem(
    week: str, client: FlaskClient, headers_of: Callable[[str], Headers]
):
    response = client.get(f"/api/v1/me/plan/{week}", headers=headers_of("platform-2"))
    assert_problem(response, 422, "isoweek")


@pytest.mark.parametrize("path", ["/me/experiments", "/me/feedback", "/me/plan/2026-W10"])
def test_the_reads_need_a_caller_and_known_parameters(
    path: str, client: FlaskClient, headers_of: Callable[[str], Headers]
):
    assert_problem(client.get(f"/api/v1{path}"), 401)
    headers = headers_of("platform-2")
    assert_problem(client.get(f"/api/v1{path}?colour=blue", headers=headers), 422, "colour")
    assert_problem(client.get(f"/api/v1{path}?min_position=-1", headers=headers), 422)


def test_only_my_own_data(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person]
):
    me, colleague = new_person(), new_person()
    week = iso_week_of(datetime.now(UTC))
    post(client, colleague, f"/plans/{week}", {"actions": [{"tactic": "small_exposure"}]})
    post(client, colleague, "/experiments", {"tactic": "small_exposure"})
    post(client, colleague, "/feedback-requests", {"question": "Private to my colleague"})
    position = post(client, colleague, "/actions", ACTION)["position"]
    project(store)

    assert read(client, colleague, f"/me/plan/{week}", position)["planned"] == 1
    assert read(client, me, f"/me/plan/{week}", position)["items"] == []
    assert read(client, me, "/me/experiments", position)["experiments"] == []
    feedback = read(client, me, "/me/feedback", position)
    assert (feedback["requests"], feedback["items"]) == (0, [])


def test_the_reads_are_documented(client: FlaskClient):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, schema in [
        ("/api/v1/me/experiments", "MyExperimentsOut"),
        ("/api/v1/me/feedback", "MyFeedbackOut"),
        ("/api/v1/me/plan/{isoweek}", "MyPlanOut"),
    ]:
        get = spec["paths"][path]["get"]
        content = get["responses"]["200"]["content"]["application/json"]
        assert content["schema"]["$ref"].endswith(f"/{schema}")
        assert {p["name"] for p in get["parameters"]} >= {"min_position"}
    assert "question" in spec["components"]["schemas"]["MyFeedbackRequest"]["properties"]
