"""Another organisation's SCIM token sees and changes nothing of ours: not by id, not by
filter, not as a group member, and our userNames and externalIds do not collide with theirs."""

from __future__ import annotations

import pytest
from flask import Flask

from shared.eventlog import EventStore
from tests.scim.conftest import PATCH, USER, Scim, assert_error, new_tenant

pytestmark = pytest.mark.integration


def test_another_tenants_token_reaches_nothing_of_ours(
    app: Flask, store: EventStore, scim: Scim
) -> None:
    tenant, admin, token = new_tenant(store)
    theirs = Scim(app.test_client(), tenant, admin, token, store)
    ours = scim.user("ada.lovelace", externalId="ext-ada")
    group = scim.group("Platform", [ours["id"]])
    head = store.head()

    changes = {
        f"/Users/{ours['id']}": {"op": "replace", "path": "active", "value": False},
        f"/Groups/{group['id']}": {"op": "replace", "path": "displayName", "value": "Mine now"},
    }
    for path, change in changes.items():
        assert_error(theirs.call("GET", path), 404)
        assert_error(theirs.call("DELETE", path), 404)
        body = {"schemas": [PATCH], "Operations": [change]}
        assert_error(theirs.call("PATCH", path, body), 404)
    listed = theirs.ok("GET", '/Users?filter=userName eq "ada.lovelace"')
    assert listed["totalResults"] == 0
    listed = theirs.ok("GET", '/Groups?filter=displayName eq "Platform"')
    assert listed["totalResults"] == 0

    # Our person as a member of their group: refused, nothing written.
    mine = theirs.group("Mine")
    add = {
        "schemas": [PATCH],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": ours["id"]}]}],
    }
    refused = theirs.call("PATCH", f"/Groups/{mine['id']}", add)
    assert 400 <= refused.status_code < 500, refused.get_data(as_text=True)
    assert not [e for e in store.read_all(head, 10_000) if e.tenant_id == scim.tenant_id]
    assert theirs.ok("GET", f"/Groups/{mine['id']}").get("members", []) == []

    # The same userName and externalId are theirs to use too.
    twin = theirs.ok(
        "POST",
        "/Users",
        {"schemas": [USER], "userName": "ada.lovelace", "externalId": "ext-ada"},
        201,
    )
    assert twin["id"] != ours["id"]
    assert scim.ok("GET", f"/Users/{ours['id']}")["userName"] == "ada.lovelace"
