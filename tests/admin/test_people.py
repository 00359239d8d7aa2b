"""The admin console's people pages: search and filters, and each change to a person as an
event through the organisation's commands; refusals write nothing."""

from __future__ import annotations

import pytest

from shared.notify import Message
from tests.admin.conftest import Console, log_in, other_email

pytestmark = pytest.mark.integration


def test_the_people_list_filters_by_text_team_role_and_status(console: Console):
    org = console.org
    page = console.page("/admin/people")
    assert org.emails["platform-1"] in page and org.emails["payments-2"] in page
    page = console.page(f"/admin/people?team={org.teams['payments']}")
    assert org.emails["payments-1"] in page and org.emails["platform-1"] not in page
    page = console.page("/admin/people?q=" + org.emails["platform-2"][:12].upper())
    assert org.emails["platform-2"] in page and org.emails["payments-1"] not in page
    page = console.page("/admin/people?role=admin")
    assert org.emails["admin"] in page and org.emails["platform-1"] not in page
    page = console.page("/admin/people?status=invited&q=%25")  # a % is text, not a pattern
    assert "Nobody matches" in page
    console.page("/admin/people?team=not-a-uuid&page=x")  # hostile filters: an empty page


def test_role_team_leaving_and_erasure_are_events(console: Console):
    org = console.org
    who = org.people["platform-1"]
    base = f"/admin/people/{who}"
    assert console.post(f"{base}/role", {"role": "manager"}).status_code == 302
    assert console.post(f"{base}/team", {"team_id": str(org.teams["payments"])}).status_code == 302
    page = console.page(f"{base}?done=team")
    assert "Moved to the team." in page and "payments" in page
    assert "<span>Manager</span> · <span>payments</span>" in page  # labels, not codes
    assert ">Active</span>" in page
    # Refusals re-render with the message next to the field, and write nothing.
    before = len(console.events("PersonRoleChanged", "PersonMovedTeam", "PersonErased"))
    response = console.post(f"{base}/role", {"role": "owner"})
    assert response.status_code == 422 and "Choose a role." in response.get_data(as_text=True)
    assert console.post(f"{base}/team", {"team_id": "nope"}).status_code == 422
    response = console.post(f"{base}/erase", {"confirm": "erase"})
    assert response.status_code == 422
    assert "Type the person" in response.get_data(as_text=True)
    assert len(console.events("PersonRoleChanged", "PersonMovedTeam", "PersonErased")) == before
    assert console.post(f"{base}/leave").status_code == 302
    response = console.post(f"{base}/erase", {"confirm": org.emails["platform-1"].upper()})
    assert response.status_code == 302
    types = [e.type for e in console.events("PersonRoleChanged", "PersonMovedTeam",
                                            "PersonLeft", "PersonErased")]  # fmt: skip
    assert types[-4:] == ["PersonRoleChanged", "PersonMovedTeam", "PersonLeft", "PersonErased"]
    assert all(e.metadata["source"] == "admin" for e in console.events("PersonLeft"))
    assert "(erased)" in console.page("/admin/people?status=erased")


def test_resend_only_to_someone_not_joined(console: Console, mailbox: list[Message]):
    invited = console.commands.invite(console.admin, other_email())
    mailed = len(mailbox)
    response = console.post(f"/admin/people/{invited.person_id}/resend")
    assert response.status_code == 303  # post-redirect-get: a reload mails nobody again
    page = console.page(response.headers["Location"])
    assert "Invitation written to the log" in page and "/invite/" in page
    assert console.page(response.headers["Location"]) == page and len(mailbox) == mailed + 1
    assert "/invite/" not in console.page(f"/admin/people/{invited.person_id}")
    joined = console.org.people["platform-2"]
    assert console.post(f"/admin/people/{joined}/resend").status_code == 409


def test_another_organisations_people_are_not_found(console: Console, app, store):
    from tests.conftest import make_org

    other = make_org(store, people_per_team=1)
    theirs = other.people["platform-1"]
    assert console.client.get(f"/admin/people/{theirs}").status_code == 404
    actions = [
        ("role", {"role": "admin"}),
        ("leave", {}),
        ("erase", {"confirm": "x"}),
        ("team", {"team_id": str(other.teams["platform"])}),
        ("resend", {}),
    ]
    for action, data in actions:
        assert console.post(f"/admin/people/{theirs}/{action}", data).status_code == 404, action


def test_employees_and_managers_are_refused(console: Console, app):
    for who in ("platform-1", "platform-manager"):
        client = app.test_client()
        log_in(client, console.org.emails[who], console.org.password)
        for path in ("/admin/people", "/admin/teams", "/admin/settings", "/admin/audit"):
            assert client.get(path).status_code == 403, (who, path)
        assert "/admin/people" not in client.get("/").get_data(as_text=True)  # no nav link
    assert 'href="/admin/people"' in console.page("/")
    anonymous = app.test_client().get("/admin/people")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
