"""Read-your-writes tokens reveal nothing of other tenants' activity (issue #17, attack 8).

Log positions are global. The API hands out tokens instead (shared/read_tokens.py): a read's
``as_of_position`` seals the tenant's own last event the projection reached, so it stays the
same while another tenant writes, and a token works only for the tenant it was made for.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from services.gateway.api.positions import NOT_A_TOKEN, RAW_POSITION
from shared.eventlog import EventStore
from shared.projections import runtime
from shared.read_tokens import InvalidPositionToken, PositionTokens
from tests.api.conftest import assert_problem
from tests.conftest import TEST_SECRET, DemoOrg, make_org

pytestmark = pytest.mark.integration

ACTION = {"tactic": "learning_bit", "minutes": 10, "audience": "private"}


@pytest.fixture
def tenants(store: EventStore) -> tuple[DemoOrg, DemoOrg]:
    """Two organisations of this test alone."""
    return make_org(store, people_per_team=1), make_org(store, people_per_team=1)


HEADERS: dict[tuple[object, str], dict[str, str]] = {}


def headers(client: FlaskClient, org: DemoOrg, who: str) -> dict[str, str]:
    """Bearer headers, one login each (a login is an event of the tenant's too)."""
    if (org.tenant_id, who) not in HEADERS:
        HEADERS[(org.tenant_id, who)] = org.headers(client, who)
    return HEADERS[(org.tenant_id, who)]


def act(client: FlaskClient, org: DemoOrg, who: str) -> str:
    response = client.post("/api/v1/actions", headers=headers(client, org, who), json=ACTION)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["position"])


def capital(client: FlaskClient, org: DemoOrg, who: str, token: str = "") -> Any:
    query = f"?min_position={token}" if token else ""
    return client.get(f"/api/v1/me/capital{query}", headers=headers(client, org, who))


def test_a_tenants_token_does_not_move_when_another_writes(
    client: FlaskClient, store: EventStore, tenants: tuple[DemoOrg, DemoOrg]
):
    a, b = tenants
    headers(client, a, "payments-1")  # logged in before: logins are events too
    written = act(client, a, "platform-1")
    runtime(store).catch_up("capital")
    first = capital(client, a, "platform-1", written).get_json()["as_of_position"]
    assert first == written  # A's last event the projection reached: A's own write

    for _ in range(3):
        act(client, b, "platform-1")
    runtime(store).catch_up("capital")  # the projection moves past B's writes
    assert capital(client, a, "platform-1").get_json()["as_of_position"] == first
    assert capital(client, a, "payments-1").get_json()["as_of_position"] == first

    again = act(client, a, "platform-1")  # only A's own write moves A's token
    runtime(store).catch_up("capital")
    assert capital(client, a, "platform-1").get_json()["as_of_position"] == again != first


def test_positions_leave_only_sealed(
    client: FlaskClient, store: EventStore, tenants: tuple[DemoOrg, DemoOrg]
):
    a, b = tenants
    before = act(client, a, "platform-1")
    for _ in range(2):
        act(client, b, "platform-1")
    after = act(client, a, "platform-1")
    tokens = PositionTokens(TEST_SECRET)
    gap = tokens.open(a.tenant_id, after) - tokens.open(a.tenant_id, before)
    assert gap >= 3  # the raw positions would show B's two writes in between
    for token in (before, after):
        assert token.startswith("p1.") and str(tokens.open(a.tenant_id, token)) not in token
    with pytest.raises(InvalidPositionToken):
        tokens.open(b.tenant_id, after)  # sealed for A alone


@pytest.mark.parametrize("bad", ["12", " 7", "p1.", "p1.AAAA", "-1", "nonsense"])
def test_raw_integers_and_garbage_are_refused(
    client: FlaskClient, tenants: tuple[DemoOrg, DemoOrg], bad: str
):
    a, _ = tenants
    body = assert_problem(capital(client, a, "platform-1", bad), 422, "min_position")
    expected = RAW_POSITION if bad.strip().isdigit() else NOT_A_TOKEN
    assert body["errors"]["min_position"] == [expected]


def test_another_tenants_or_a_tampered_token_is_refused(
    client: FlaskClient, tenants: tuple[DemoOrg, DemoOrg]
):
    a, b = tenants
    token = act(client, a, "platform-1")
    assert_problem(capital(client, b, "platform-1", token), 422, "min_position")
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert_problem(capital(client, a, "platform-1", flipped), 422, "min_position")
    assert capital(client, a, "platform-1", token).status_code == 200
