"""Inviting from the console: a list previewed row by row with nothing written, then one
idempotent batch; a CSV upload; one person by a form."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from flask import Flask

from services.gateway.admin.sent import SENT_SECONDS
from services.gateway.resources import resources
from shared.commands.people import Invitee
from shared.domain.errors import Conflict
from shared.eventlog import EventStore
from shared.invitation_rows import check_rows, read_rows
from shared.notify import Message
from tests.admin.conftest import Console, log_in, other_email
from tests.conftest import make_org

pytestmark = pytest.mark.integration
TAKEN = "This e-mail address already has an account."


def test_a_list_is_previewed_then_confirmed_once(console: Console, mailbox: list[Message]):
    good, also, bad = other_email(), other_email(), "not-an-address"
    text = (
        "email,name,team,role\n"
        f"{good},Ada Lovelace,platform,manager\n"
        f"{bad},Bob,platform,\n"
        f"{also},,payments,\n"
    )
    response = console.post("/admin/invite/preview", {"list": text})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2 rows of 3 are ready" in page and "line 3" in page
    assert "&#39;not-an-address&#39; is not an e-mail address." in page
    assert console.events("PersonInvited")[-1].data["person_id"] not in page  # nothing new
    invited_before, mailed = len(console.events("PersonInvited")), len(mailbox)
    batch = re.search(r'name="batch_id" value="([^"]+)"', page)
    assert batch
    form = {"list": text, "batch_id": batch.group(1)}
    response = console.post("/admin/invite/confirm", form)
    assert response.status_code == 303, response.get_data(as_text=True)  # post-redirect-get
    result = response.headers["Location"]
    assert result.startswith("/admin/invite/sent/") and len(mailbox) == mailed + 2
    page = console.page(result)
    assert "2 people invited. 1 row skipped." in page and page.count("invitation link") == 2
    assert "Line 3 (not-an-address)" in page
    assert console.page(result) == page and len(mailbox) == mailed + 2  # a reload sends nothing
    invited = console.events("PersonInvited")[invited_before:]
    assert [e.data["role"] for e in invited] == ["manager", "employee"]
    assert invited[0].data["team_id"] == str(console.org.teams["platform"])
    people = console.page("/admin/people?status=invited")
    assert good in people and "Ada Lovelace" in people and bad not in people
    # Confirming the same batch again (a double click, a retry) invites no one twice.
    response = console.post("/admin/invite/confirm", form)
    assert response.status_code == 303
    assert console.page(response.headers["Location"]).count("Invited already by this list") == 2
    assert len(mailbox) == mailed + 2
    assert len(console.events("PersonInvited")) == invited_before + 2
    # The same list previewed anew: its addresses are now the organisation's.
    page = console.post("/admin/invite/preview", {"list": text}).get_data(as_text=True)
    assert "0 rows of 3 are ready" in page and "Invite 0" not in page


def test_a_csv_upload_and_its_limits(console: Console):
    email = other_email()
    data = {"list": "", "csv": (io.BytesIO(f"\ufeff{email},Cy,payments\n".encode()), "p.csv")}
    response = console.post("/admin/invite/preview", data, content_type="multipart/form-data")
    assert response.status_code == 200 and "1 row of 1 is ready" in response.get_data(as_text=True)
    data = {"csv": (io.BytesIO(b"\xff\xfe\x00bad"), "p.csv")}
    response = console.post("/admin/invite/preview", data, content_type="multipart/form-data")
    assert response.status_code == 422 and "not UTF-8" in response.get_data(as_text=True)
    # A list larger than other forms may be (1 MB), blank lines skipped; over 4 MB: refused.
    pasted = {"list": f"{other_email()}\n" + "\n" * 400_000}  # 1.2 MB once encoded
    response = console.post("/admin/invite/preview", pasted)
    assert response.status_code == 200 and "1 row of 1 is ready" in response.get_data(as_text=True)
    huge = {"list": "\n" * 1_500_000}  # 4.5 MB once encoded
    assert console.post("/admin/invite/preview", huge).status_code == 413
    assert console.post("/account/password", {"x": "\n" * 400_000}).status_code == 413
    response = console.post("/admin/invite/preview", {"list": "\n , \n"})
    assert response.status_code == 422 and "at least one address" in response.get_data(as_text=True)
    before = len(console.events("PersonInvited"))
    response = console.post("/admin/invite/confirm", {"list": f"{email}\n", "batch_id": "x"})
    assert response.status_code == 400
    assert len(console.events("PersonInvited")) == before


def test_one_person_by_the_form(console: Console):
    before = len(console.events("PersonInvited"))
    response = console.post("/admin/invite", {"email": "nope", "role": "employee"})
    assert response.status_code == 422 and 'aria-invalid="true"' in response.get_data(as_text=True)
    response = console.post("/admin/invite", {"email": console.org.emails["platform-1"]})
    assert response.status_code == 422 and "already has this address" in response.get_data(
        as_text=True
    )
    response = console.post("/admin/invite", {"email": other_email(), "team_id": str(uuid.uuid4())})
    assert response.status_code == 422 and "No team" in response.get_data(as_text=True)
    assert len(console.events("PersonInvited")) == before
    email = other_email()
    team = str(console.org.teams["payments"])
    response = console.post("/admin/invite", {"email": email, "team_id": team, "role": "admin"})
    assert response.status_code == 303
    page = console.page(response.headers["Location"])
    assert "1 person invited" in page and email in page and "/invite/" in page
    assert console.events("PersonInvited")[-1].data["role"] == "admin"


def test_a_refusal_at_writing_is_said_next_to_its_field(
    console: Console, app: Flask, monkeypatch: pytest.MonkeyPatch
):
    """Between the check and the write another admin invites the address: the command's
    refusal shows at the e-mail field, and nothing is written."""
    email = other_email()
    with app.app_context():
        commands = type(resources().organization)

    def taken_meanwhile(*args: object) -> None:
        raise Conflict("this e-mail address already has an account", {"email": [TAKEN]})

    monkeypatch.setattr(commands, "invite_batch", taken_meanwhile)
    before = len(console.events("PersonInvited"))
    response = console.post("/admin/invite", {"email": email})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert f'<p class="error" id="email-error">{TAKEN}</p>' in page
    assert 'aria-describedby="email-error"' in page and email in page  # kept in the form
    assert len(console.events("PersonInvited")) == before


def test_an_invitations_result_is_the_admins_own_and_expires(
    console: Console, app: Flask, store: EventStore
):
    """The page an invitation redirects to is kept for its admin only, for an hour; then it
    says where the invitations are."""
    response = console.post("/admin/invite", {"email": other_email()})
    result = response.headers["Location"]
    assert "1 person invited" in console.page(result)
    other = make_org(store)
    stranger = app.test_client()
    log_in(stranger, other.emails["admin"], other.password)
    response = stranger.get(result)
    assert response.status_code == 404 and "/invite/" not in response.get_data(as_text=True)
    with app.app_context():
        keys = list(resources().redis.scan_iter(f"compound:admin:sent:{console.org.tenant_id}:*"))
        assert keys and 0 < resources().redis.ttl(keys[0]) <= SENT_SECONDS
        resources().redis.delete(*keys)
    response = console.client.get(result)
    assert response.status_code == 404
    assert "no longer kept" in response.get_data(as_text=True)


def test_rows_are_read_and_checked_each_with_its_messages():
    teams = [(uuid.uuid4(), "Platform"), (uuid.uuid4(), "Twin"), (uuid.uuid4(), "twin")]
    text = (
        'a@x.org,"Lovelace, Ada",PLATFORM\n'
        "A@X.ORG\n"
        "b@x.org,,Twin\n"
        "c@x.org,,Nowhere,boss,extra\n"
        "taken@x.org\n"
        ",Nobody\n"
    )
    rows = check_rows(read_rows(text), teams, ["TAKEN@x.org"])
    assert [r.line for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0].ok and rows[0].name == "Lovelace, Ada" and rows[0].team_id == teams[0][0]
    assert rows[1].errors == {"email": ["The same address as line 1."]}
    assert "give the team's id" in rows[2].errors["team"][0]
    assert set(rows[3].errors) == {"_row", "team", "role"}
    assert rows[4].errors["email"] == ["Someone in the organisation already has this address."]
    assert rows[5].errors["email"] == ["No e-mail address."]
    header = read_rows("Role,Email\nadmin,z@x.org\n")
    assert (header[0].email, header[0].role) == ("z@x.org", "admin")


def test_a_batch_is_all_or_nothing_and_idempotent(console: Console, store: EventStore):
    """The command behind the confirmation: one address twice (any case) refuses the whole
    batch; an address of another organisation records nothing; confirming again records
    nothing new."""
    commands, admin, batch = console.commands, console.admin, uuid.uuid4()
    elsewhere = make_org(store).emails["platform-1"]
    before = len(console.events("PersonInvited"))
    rows = [Invitee(f"twice-{batch}@example.com"), Invitee(f"TWICE-{batch}@example.com")]
    with pytest.raises(Conflict):
        commands.invite_batch(admin, batch, rows)
    assert not console.events("PersonInvited")[before:]
    rows = [Invitee(f"one-{batch}@example.com", display_name="One"), Invitee(elsewhere)]
    first = commands.invite_batch(admin, batch, rows)
    assert [(i.replayed, i.registered_elsewhere) for i in first] == [(False, False), (False, True)]
    again = commands.invite_batch(admin, batch, rows)
    assert [i.person_id for i in again] == [i.person_id for i in first]
    assert [(i.replayed, i.registered_elsewhere) for i in again] == [(True, False), (False, True)]
    invited = console.events("PersonInvited")[before:]
    assert [e.data["person_id"] for e in invited] == [str(first[0].person_id)]
    page = console.page(f"/admin/people/{first[0].person_id}")
    assert f"one-{batch}@example.com" in page
