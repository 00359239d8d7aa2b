"""The confirmed cross-tenant attack of issue 18, played through the API: another organisation's
admin imports an answer (or an end, an outcome, a request) naming an id of ours, seen in a
feedback link. The import is refused with the field named, nothing of theirs is written, and
our request stays unanswered. Their own references keep working (real PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from shared.eventlog import EventStore
from tests.api.conftest import Headers, assert_problem, bearer
from tests.api.test_bounds import events_of
from tests.conftest import DemoOrg

pytestmark = pytest.mark.integration


def answers_to(store: EventStore, request_id: str) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM events WHERE type = 'FeedbackGiven' "
                    "AND data->>'request_id' = :r"
                ),
                {"r": request_id},
            ).scalar_one()
        )


def item(event_type: str, person: uuid.UUID, **data: Any) -> dict[str, Any]:
    return {"type": event_type, "data": {"person_id": str(person), **data}}


def answer(person: uuid.UUID, request_id: str) -> dict[str, Any]:
    return item("FeedbackGiven", person, request_id=request_id, useful=False)


def feedback_request(person: uuid.UUID, request_id: str) -> dict[str, Any]:
    expires = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    return item(
        "FeedbackRequested", person, request_id=request_id, question="Q?", expires_at=expires
    )


def action(person: uuid.UUID, action_id: str) -> dict[str, Any]:
    return item(
        "MicroActionLogged",
        person,
        action_id=action_id,
        tactic="learning_bit",
        minutes=10,
        audience="team",
    )


@pytest.fixture
def victim(store: EventStore, org: DemoOrg) -> Headers:
    return bearer(store, org, org.people["platform-1"])


@pytest.fixture
def attacker(store: EventStore, other_org: DemoOrg) -> Headers:
    return bearer(store, other_org, other_org.admin)


def refused(
    client: FlaskClient,
    store: EventStore,
    other_org: DemoOrg,
    attacker: Headers,
    events: list[dict[str, Any]],
    *fields: str,
) -> dict[str, Any]:
    before = events_of(store, other_org.tenant_id)
    response = client.post("/api/v1/events:import", json={"events": events}, headers=attacker)
    problem = assert_problem(response, 422, *fields)
    assert events_of(store, other_org.tenant_id) == before
    return problem


def test_another_tenant_cannot_answer_our_feedback_request(
    client: FlaskClient,
    store: EventStore,
    other_org: DemoOrg,
    victim: Headers,
    attacker: Headers,
):
    asked = client.post("/api/v1/feedback-requests", json={"question": "Useful?"}, headers=victim)
    assert asked.status_code == 201, asked.get_json()
    request_id = asked.get_json()["request_id"]
    me = other_org.admin
    # The plain answer: no request of the attacker's own person has this id.
    refused(
        client, store, other_org, attacker, [answer(me, request_id)], "events.0.data.request_id"
    )
    # The subtler one: claim the id with a request of one's own, then answer that.
    both = [feedback_request(me, request_id), answer(me, request_id)]
    problem = refused(client, store, other_org, attacker, both, "events.0.data.request_id")
    assert "taken" in problem["errors"]["events.0.data.request_id"][0]
    # The id in upper case is the same id.
    refused(
        client,
        store,
        other_org,
        attacker,
        [answer(me, request_id.upper())],
        "events.0.data.request_id",
    )
    assert answers_to(store, request_id) == 0
    link = asked.get_json()["link"]
    page = client.get(link.replace("http://compound.test", ""))
    assert page.status_code == 200  # still open for the colleague it was meant for


def test_another_tenant_cannot_end_our_experiment_or_claim_our_action(
    client: FlaskClient,
    store: EventStore,
    other_org: DemoOrg,
    victim: Headers,
    attacker: Headers,
):
    started = client.post("/api/v1/experiments", json={"tactic": "learning_bit"}, headers=victim)
    assert started.status_code == 201, started.get_json()
    experiment_id = started.get_json()["experiment_id"]
    logged = client.post(
        "/api/v1/actions",
        json={"tactic": "learning_bit", "minutes": 5, "audience": "team"},
        headers=victim,
    )
    action_id = logged.get_json()["action_id"]
    me = other_org.admin
    ended = item("ExperimentEnded", me, experiment_id=experiment_id)
    refused(client, store, other_org, attacker, [ended], "events.0.data.experiment_id")
    outcome = item("OutcomeRecorded", me, outcome_id=str(uuid.uuid4()), kind="recognition")
    outcome["data"]["action_id"] = action_id
    refused(client, store, other_org, attacker, [outcome], "events.0.data.action_id")
    start = item(
        "ExperimentStarted",
        me,
        experiment_id=experiment_id,
        tactic="learning_bit",
        starts_on=date.today().isoformat(),
    )
    refused(client, store, other_org, attacker, [start, ended], "events.0.data.experiment_id")


def test_a_person_named_must_be_of_the_importing_organisation(
    client: FlaskClient, store: EventStore, org: DemoOrg, other_org: DemoOrg, attacker: Headers
):
    outcome = item("OutcomeRecorded", other_org.admin, outcome_id=str(uuid.uuid4()))
    outcome["data"].update(kind="recognition", confirmer_id=str(org.people["platform-1"]))
    refused(client, store, other_org, attacker, [outcome], "events.0.data.confirmer_id")


def test_two_streams_of_one_import_cannot_share_an_id(
    client: FlaskClient, store: EventStore, other_org: DemoOrg, attacker: Headers
):
    shared = str(uuid.uuid4())
    one, two = other_org.admin, other_org.people["platform-1"]
    refused(
        client,
        store,
        other_org,
        attacker,
        [action(one, shared), action(two, shared)],
        "events.0.data.action_id",
        "events.1.data.action_id",
    )


def test_own_references_are_imported_in_one_batch_or_later(
    client: FlaskClient, store: EventStore, other_org: DemoOrg, attacker: Headers
):
    me = other_org.admin
    first, second, action_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    batch = [action(me, action_id), feedback_request(me, first), answer(me, first)]
    batch.append(feedback_request(me, second))
    batch[1]["data"]["action_id"] = action_id
    response = client.post("/api/v1/events:import", json={"events": batch}, headers=attacker)
    assert response.status_code == 201, response.get_json()
    later = client.post(
        "/api/v1/events:import", json={"events": [answer(me, second)]}, headers=attacker
    )
    assert later.status_code == 201, later.get_json()
    # Importing the same batch again (a retry without a key) is still the person's own ids.
    again = client.post("/api/v1/events:import", json={"events": batch}, headers=attacker)
    assert again.status_code == 201, again.get_json()
    assert answers_to(store, first) == 2


def test_an_import_cannot_claim_a_confirmation(
    client: FlaskClient, store: EventStore, org: DemoOrg, headers_of: Any
):
    """Model 2 weighs confirmed proof most: only the named colleague gives it, never an import
    (an admin gaming a colleague's score); the same answer unconfirmed imports fine."""
    admin, person = headers_of("admin"), org.people["platform-1"]
    request_id = str(uuid.uuid4())
    claimed = {**answer(person, request_id), "data": {**answer(person, request_id)["data"]}}
    claimed["data"].update(useful=True, confirmed=True)
    before = events_of(store, org.tenant_id)
    response = client.post(
        "/api/v1/events:import",
        json={"events": [feedback_request(person, request_id), claimed]},
        headers=admin,
    )
    problem = assert_problem(response, 422, "events.1.data.confirmed")
    assert "confirms" in problem["errors"]["events.1.data.confirmed"][0]
    assert events_of(store, org.tenant_id) == before
    claimed["data"]["confirmed"] = False
    response = client.post(
        "/api/v1/events:import",
        json={"events": [feedback_request(person, request_id), claimed]},
        headers=admin,
    )
    assert response.status_code == 201, response.get_json()
