"""Clear incentives read confirmed rewards, through the API: an outcome naming a confirmer
rewards the person's visible actions only once confirmed (declined: never); one naming
nobody rewards as before; the person-week counts how many of its rewarded actions a
confirmed reward rewarded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from shared.eventlog import EventStore
from shared.projections import runtime
from tests.api.conftest import Person

pytestmark = pytest.mark.integration


def post(client: FlaskClient, who: Person, path: str, body: dict[str, Any]) -> Any:
    response = client.post(f"/api/v1{path}", headers=who.headers, json=body)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def rewards_of(store: EventStore, person: Person) -> tuple[int, int, int]:
    """The person's (visible, rewarded, confirmed rewarded) actions, after catch-up."""
    runtime(store).catch_up("levers")
    with store.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT coalesce(sum(visible), 0), coalesce(sum(rewarded), 0), "
                "coalesce(sum(confirmed_rewarded), 0) FROM lever_person_weeks "
                "WHERE person_id = :p"
            ),
            {"p": person.id},
        ).one()
    return (int(row[0]), int(row[1]), int(row[2]))


@pytest.mark.parametrize("answer", [True, False])
def test_a_named_confirmer_decides_whether_an_outcome_rewards(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person], answer: bool
) -> None:
    owner, colleague = new_person(), new_person()
    post(client, owner, "/actions", {"tactic": "prototype_first", "minutes": 15,
                                     "audience": "team"})  # fmt: skip
    made = post(client, owner, "/outcomes", {"kind": "recognition",
                                             "confirmer": str(colleague.id)})  # fmt: skip
    assert rewards_of(store, owner) == (1, 0, 0)  # awaiting its confirmer: no reward yet
    path = f"/outcomes/{made['outcome_id']}/confirmation"
    post(client, colleague, path, {"confirmed": answer})
    assert rewards_of(store, owner) == ((1, 1, 1) if answer else (1, 0, 0))
    runtime(store).rebuild("levers")
    assert rewards_of(store, owner) == ((1, 1, 1) if answer else (1, 0, 0))


def test_an_outcome_naming_nobody_rewards_self_reported(
    client: FlaskClient, store: EventStore, new_person: Callable[..., Person]
) -> None:
    owner = new_person()
    post(client, owner, "/actions", {"tactic": "prototype_first", "minutes": 15,
                                     "audience": "team"})  # fmt: skip
    post(client, owner, "/outcomes", {"kind": "invitation"})
    assert rewards_of(store, owner) == (1, 1, 0)
