"""/scim/v2/Users over the test gateway: create, read, filter, page, replace, patch, delete,
and the events each writes."""

from __future__ import annotations

import pytest

from tests.scim.conftest import PATCH, USER, Scim, assert_error

pytestmark = pytest.mark.integration


def test_create_then_get_a_user_without_email(scim: Scim) -> None:
    head = scim.store.head()
    created = scim.user("jdoe", externalId="ext-1", displayName="J Doe")
    assert created["userName"] == "jdoe"
    assert created["externalId"] == "ext-1"
    assert created["active"] is True
    assert "emails" not in created
    got = scim.call("GET", f"/Users/{created['id']}")
    assert got.status_code == 200
    assert got.headers["ETag"] == created["meta"]["version"]
    assert got.get_json() == created
    types = [e.type for e in scim.events(head)]
    assert types == ["PersonInvited", "PersonProvisioned", "PersonJoined"]


def test_user_name_is_unique_whatever_its_case(scim: Scim) -> None:
    scim.user("Alice@Example.test")
    head = scim.store.head()
    response = scim.call("POST", "/Users", {"schemas": [USER], "userName": "alice@example.TEST"})
    assert_error(response, 409, "uniqueness")
    assert scim.events(head) == []


def test_filters(scim: Scim) -> None:
    a = scim.user("ann", emails=[{"value": "ann@f.example.com", "primary": True}], externalId="A1")
    scim.user("anna", externalId="A2")
    scim.user("bob")
    cases = {
        'userName eq "ANN"': ["ann"],
        'userName sw "an"': ["ann", "anna"],
        'userName co "nn"': ["ann", "anna"],
        'userName sw "an" and externalId eq "A2"': ["anna"],
        'emails[type eq "work" and value eq "ann@f.example.com"]': ["ann"],
        'externalId eq "a1"': [],  # externalId is case-exact
        f'id eq "{a["id"]}"': ["ann"],
        'userName eq "bob" or userName eq "ann"': ["ann", "bob"],
        'active eq true and not (userName sw "a")': ["bob"],
    }
    for text, names in cases.items():
        found = scim.ok("GET", "/Users?" + _query(filter=text))
        got = sorted(r["userName"] for r in found["Resources"] if r["userName"] != _admin(scim))
        assert got == names, text


def _admin(scim: Scim) -> str:
    return scim.ok("GET", "/Users?count=1")["Resources"][0]["userName"]


def _query(**params: str) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def test_bad_filters_are_invalid_filter(scim: Scim) -> None:
    for text in ("userName eq", 'nickName eq "x"', 'active co "t"', "x" * 3000):
        assert_error(scim.call("GET", "/Users?" + _query(filter=text)), 400, "invalidFilter")


def test_pagination(scim: Scim) -> None:
    for i in range(5):
        scim.user(f"page-{i}")
    first = scim.ok("GET", "/Users?" + _query(filter='userName sw "page-"', count="2"))
    assert (first["totalResults"], first["itemsPerPage"], first["startIndex"]) == (5, 2, 1)
    rest = scim.ok(
        "GET", "/Users?" + _query(filter='userName sw "page-"', startIndex="3", count="10")
    )
    names = [r["userName"] for r in first["Resources"] + rest["Resources"]]
    assert names == [f"page-{i}" for i in range(5)]
    counted = scim.ok("GET", "/Users?count=0")
    assert counted["Resources"] == [] and counted["totalResults"] == 6


def test_replace_writes_one_event_per_change(scim: Scim) -> None:
    user = scim.user("carol", displayName="Carol")
    head = scim.store.head()
    body = {
        "schemas": [USER],
        "userName": "carol",
        "displayName": "Carol King",
        "emails": [{"value": "carol@k.example.com", "primary": True}],
    }
    replaced = scim.ok("PUT", f"/Users/{user['id']}", body)
    assert replaced["displayName"] == "Carol King"
    assert replaced["emails"] == [{"value": "carol@k.example.com"}]
    assert [e.type for e in scim.events(head)] == ["PersonEmailChanged", "PersonRenamed"]
    head = scim.store.head()
    scim.ok("PUT", f"/Users/{user['id']}", body)
    assert scim.events(head) == []  # the same state again writes nothing


def test_if_match_refuses_a_stale_version(scim: Scim) -> None:
    user = scim.user("dave")
    scim.ok("PUT", f"/Users/{user['id']}", {"schemas": [USER], "userName": "dave2"})
    head = scim.store.head()
    stale = scim.call(
        "PUT",
        f"/Users/{user['id']}",
        {"schemas": [USER], "userName": "dave3"},
        **{"If-Match": user["meta"]["version"]},
    )
    assert_error(stale, 412)
    assert scim.events(head) == []
    fresh = scim.ok("GET", f"/Users/{user['id']}")
    assert (
        scim.call(
            "GET", f"/Users/{user['id']}", **{"If-None-Match": fresh["meta"]["version"]}
        ).status_code
        == 304
    )


def test_patch_deactivate_and_delete(scim: Scim) -> None:
    user = scim.user("erin")
    head = scim.store.head()
    patch = {
        "schemas": [PATCH],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
    }
    assert scim.ok("PATCH", f"/Users/{user['id']}", patch)["active"] is False
    assert [e.type for e in scim.events(head)] == ["PersonLeft"]
    head = scim.store.head()
    again = {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": True}}]}
    assert scim.ok("PATCH", f"/Users/{user['id']}", again)["active"] is True
    assert [e.type for e in scim.events(head)] == ["PersonReturned"]
    assert scim.call("DELETE", f"/Users/{user['id']}").status_code == 204
    assert_error(scim.call("GET", f"/Users/{user['id']}"), 404)
    assert_error(scim.call("DELETE", f"/Users/{user['id']}"), 404)
    scim.user("erin")  # the userName is free again


def test_no_token_or_a_wrong_one_is_401(scim: Scim) -> None:
    response = scim.client.get("/scim/v2/Users")
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    tampered = scim.token[:-2] + ("AA" if not scim.token.endswith("AA") else "BB")
    response = scim.client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {tampered}"})
    assert_error(response, 401)


def test_malformed_bodies(scim: Scim) -> None:
    head = scim.store.head()
    bad = scim.client.post(
        "/scim/v2/Users",
        data=b'{"userName": ',
        headers={"Authorization": f"Bearer {scim.token}", "Content-Type": "application/scim+json"},
    )
    assert_error(bad, 400, "invalidSyntax")
    assert_error(scim.call("POST", "/Users", {"schemas": [USER]}), 400, "invalidValue")
    assert_error(
        scim.call(
            "POST", "/Users", {"schemas": [USER], "userName": "x", "emails": [{"value": "nope"}]}
        ),
        400,
        "invalidValue",
    )
    assert scim.events(head) == []
