"""The requests Microsoft Entra ID and Okta send, as their public documentation shows them
(Microsoft Learn, "Tutorial: Develop and plan provisioning for a SCIM endpoint"; Okta
Developer, "Okta and SCIM Version 2.0"), ids and addresses replaced by this test's own.

Where a documented body names an address under a special-use domain (Okta's ``okta.local``),
it is given one under ``example.com``: scim2-models refuses special-use domains as e-mail
addresses (see ``test_special_use_domains_are_refused``).
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.scim.conftest import GROUP, PATCH, USER, Scim, assert_error

pytestmark = pytest.mark.integration

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ENTRA_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2007"


def _filter(text: str) -> str:
    return "filter=" + quote(text)


def test_entra_user_lifecycle(scim: Scim) -> None:
    user_name = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@testuser.com"
    found = scim.ok("GET", "/Users?" + _filter(f'userName eq "{user_name}"'))
    assert found["totalResults"] == 0 and found["Resources"] == []
    created = scim.ok(
        "POST",
        "/Users",
        {
            "schemas": [USER, ENTERPRISE],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": user_name,
            "active": True,
            "emails": [
                {
                    "primary": True,
                    "type": "work",
                    "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com",
                }
            ],
            "meta": {"resourceType": "User"},
            "name": {
                "formatted": "givenName familyName",
                "familyName": "familyName",
                "givenName": "givenName",
            },
            "roles": [],
        },
        201,
    )
    assert created["displayName"] == "givenName familyName"
    uid = created["id"]
    found = scim.ok("GET", "/Users?" + _filter(f'userName eq "{user_name}"'))
    assert [r["id"] for r in found["Resources"]] == [uid]
    by_external = scim.ok(
        "GET", "/Users?" + _filter('externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"')
    )
    assert [r["id"] for r in by_external["Resources"]] == [uid]

    head = scim.store.head()
    updated = scim.ok(
        "PATCH",
        f"/Users/{uid}",
        {
            "schemas": [PATCH],
            "Operations": [
                {
                    "op": "Replace",
                    "path": 'emails[type eq "work"].value',
                    "value": "updatedEmail@microsoft.com",
                },
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            ],
        },
    )
    assert updated["emails"] == [{"value": "updatedEmail@microsoft.com"}]
    assert [e.type for e in scim.events(head)] == ["PersonEmailChanged"]

    new_name = "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
    renamed = scim.ok(
        "PATCH",
        f"/Users/{uid}",
        {
            "schemas": [PATCH],
            "Operations": [{"op": "Replace", "path": "userName", "value": new_name}],
        },
    )
    assert renamed["userName"] == new_name

    head = scim.store.head()
    disabled = scim.ok(
        "PATCH",
        f"/Users/{uid}",
        {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]},
    )
    assert disabled["active"] is False
    assert [e.type for e in scim.events(head)] == ["PersonLeft"]
    assert scim.call("DELETE", f"/Users/{uid}").status_code == 204
    assert_error(scim.call("GET", f"/Users/{uid}"), 404)


def test_entra_group_lifecycle(scim: Scim) -> None:
    one = scim.user("entra-one@example.com")["id"]
    two = scim.user("entra-two@example.com")["id"]
    created = scim.ok(
        "POST",
        "/Groups",
        {
            "schemas": [GROUP, ENTRA_GROUP],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {"resourceType": "Group"},
        },
        201,
    )
    gid = created["id"]
    assert created["members"] == []
    bare = scim.ok("GET", f"/Groups/{gid}?excludedAttributes=members")
    assert "members" not in bare and bare["displayName"] == "displayName"
    found = scim.ok(
        "GET", "/Groups?excludedAttributes=members&" + _filter('displayName eq "displayName"')
    )
    assert [g["id"] for g in found["Resources"]] == [gid]

    head = scim.store.head()
    add = {
        "schemas": [PATCH],
        "Operations": [
            {
                "op": "Add",
                "path": "members",
                "value": [{"$ref": None, "value": one}, {"$ref": None, "value": two}],
            }
        ],
    }
    scim.ok("PATCH", f"/Groups/{gid}", add)
    assert [e.type for e in scim.events(head)] == ["PersonMovedTeam", "PersonMovedTeam"]
    member = scim.ok(
        "GET",
        "/Groups?excludedAttributes=members&" + _filter(f'id eq "{gid}" and members eq "{one}"'),
    )
    assert member["totalResults"] == 1

    head = scim.store.head()
    remove = {
        "schemas": [PATCH],
        "Operations": [
            {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": one}]}
        ],
    }
    after = scim.ok("PATCH", f"/Groups/{gid}", remove)
    assert [m["value"] for m in after["members"]] == [two]
    assert [e.type for e in scim.events(head)] == ["PersonRemovedFromTeam"]
    not_member = scim.ok(
        "GET",
        "/Groups?excludedAttributes=members&" + _filter(f'id eq "{gid}" and members eq "{one}"'),
    )
    assert not_member["totalResults"] == 0

    renamed = scim.ok(
        "PATCH",
        f"/Groups/{gid}",
        {
            "schemas": [PATCH],
            "Operations": [
                {
                    "op": "Replace",
                    "path": "displayName",
                    "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName",
                }
            ],
        },
    )
    assert renamed["displayName"] == "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    head = scim.store.head()
    assert scim.call("DELETE", f"/Groups/{gid}").status_code == 204
    assert [e.type for e in scim.events(head)] == ["PersonRemovedFromTeam", "TeamDeprovisioned"]
    assert_error(scim.call("GET", f"/Groups/{gid}"), 404)


def test_okta_user_lifecycle(scim: Scim) -> None:
    listed = scim.ok(
        "GET",
        "/Users?" + _filter('userName eq "test.user@example.com"') + "&startIndex=1&count=100",
    )
    assert listed["totalResults"] == 0
    created = scim.ok(
        "POST",
        "/Users",
        {
            "schemas": [USER],
            "userName": "test.user@example.com",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": True, "value": "test.user@example.com", "type": "work"}],
            "displayName": "Test User",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": True,
        },
        201,
    )
    uid = created["id"]
    assert created["displayName"] == "Test User"
    replaced = scim.ok(
        "PUT",
        f"/Users/{uid}",
        {
            "schemas": [USER],
            "id": uid,
            "userName": "test.user@example.com",
            "name": {"givenName": "Another", "middleName": "", "familyName": "User"},
            "emails": [{"primary": True, "value": "test.user@example.com", "type": "work"}],
            "displayName": "Another User",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": True,
        },
    )
    assert replaced["displayName"] == "Another User"
    head = scim.store.head()
    deactivated = scim.ok(
        "PATCH",
        f"/Users/{uid}",
        {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]},
    )
    assert deactivated["active"] is False
    assert [e.type for e in scim.events(head)] == ["PersonLeft"]


def test_okta_group_lifecycle(scim: Scim) -> None:
    one = scim.user("okta-one@example.com")["id"]
    two = scim.user("okta-two@example.com")["id"]
    gid = scim.ok(
        "POST", "/Groups", {"schemas": [GROUP], "displayName": "Test SCIMv2", "members": []}, 201
    )["id"]
    renamed = scim.ok(
        "PATCH",
        f"/Groups/{gid}",
        {
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "value": {"id": gid, "displayName": "Test SCIMv2 b"}}],
        },
    )
    assert renamed["displayName"] == "Test SCIMv2 b"
    added = scim.ok(
        "PATCH",
        f"/Groups/{gid}",
        {
            "schemas": [PATCH],
            "Operations": [
                {"op": "add", "path": "members", "value": [{"value": one, "display": "okta-one"}]}
            ],
        },
    )
    assert [m["value"] for m in added["members"]] == [one]
    removed = scim.ok(
        "PATCH",
        f"/Groups/{gid}",
        {
            "schemas": [PATCH],
            "Operations": [{"op": "remove", "path": f'members[value eq "{one}"]'}],
        },
    )
    assert removed["members"] == []
    replaced = scim.ok(
        "PUT",
        f"/Groups/{gid}",
        {
            "schemas": [GROUP],
            "id": gid,
            "displayName": "SCIM 2.0 Group",
            "members": [{"value": two, "display": "okta-two"}],
        },
    )
    assert [m["value"] for m in replaced["members"]] == [two]
    assert replaced["displayName"] == "SCIM 2.0 Group"
    assert scim.call("DELETE", f"/Groups/{gid}").status_code == 204


def test_special_use_domains_are_refused(scim: Scim) -> None:
    head = scim.store.head()
    response = scim.call(
        "POST",
        "/Users",
        {"schemas": [USER], "userName": "u", "emails": [{"value": "test.user@okta.local"}]},
    )
    assert_error(response, 400, "invalidValue")
    assert scim.events(head) == []
