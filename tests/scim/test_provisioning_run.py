"""A provisioning run through SCIM as an identity provider sends it: 10,000 users, then 1,000
groups of 10, one request at a time; then the directory, the SCIM view and the event log
agree (``COMPOUND_SCIM_RUN_USERS`` makes it smaller on a laptop)."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import text

from tests.scim.conftest import GROUP, USER, Scim

pytestmark = [pytest.mark.integration, pytest.mark.slow]

USERS = int(os.environ.get("COMPOUND_SCIM_RUN_USERS", "10000"))
PER_GROUP = 10


def test_ten_thousand_users_in_a_thousand_groups(scim: Scim) -> None:
    started = time.perf_counter()
    ids = []
    for i in range(USERS):
        response = scim.call(
            "POST",
            "/Users",
            {
                "schemas": [USER],
                "userName": f"user{i:05d}@run.example.com",
                "externalId": f"ext-{i}",
                "name": {"givenName": "User", "familyName": f"{i:05d}"},
                "emails": [{"value": f"user{i:05d}@run.example.com", "primary": True}],
                "active": True,
            },
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        ids.append(response.get_json()["id"])
    users_seconds = time.perf_counter() - started
    groups = USERS // PER_GROUP
    started = time.perf_counter()
    for g in range(groups):
        members = ids[g * PER_GROUP : (g + 1) * PER_GROUP]
        response = scim.call(
            "POST",
            "/Groups",
            {
                "schemas": [GROUP],
                "displayName": f"Group {g:04d}",
                "externalId": f"grp-{g}",
                "members": [{"value": m} for m in members],
            },
        )
        assert response.status_code == 201, response.get_data(as_text=True)
    groups_seconds = time.perf_counter() - started

    listed = scim.ok("GET", '/Users?count=1&filter=userName sw "user"')
    assert listed["totalResults"] == USERS
    last = scim.ok("GET", f'/Users?filter=userName eq "user{USERS - 1:05d}@run.example.com"')
    assert [r["id"] for r in last["Resources"]] == [ids[-1]]
    page = scim.ok("GET", f"/Groups?startIndex={groups - 1}&count=5")
    assert page["totalResults"] == groups and len(page["Resources"]) == 2
    assert all(len(g["members"]) == PER_GROUP for g in page["Resources"])
    with scim.store.engine.connect() as conn:
        memberships = conn.execute(
            text("SELECT count(*) FROM team_members WHERE tenant_id = :t AND NOT is_manager"),
            {"t": scim.tenant_id},
        ).scalar()
        moves = conn.execute(
            text("SELECT count(*) FROM events WHERE tenant_id = :t AND type = 'PersonMovedTeam'"),
            {"t": scim.tenant_id},
        ).scalar()
    assert memberships == moves == groups * PER_GROUP
    print(
        f"SCIM run: {USERS} users at {USERS / users_seconds:.0f}/s, "
        f"{groups} groups of {PER_GROUP} at {groups / groups_seconds:.0f}/s"
    )
