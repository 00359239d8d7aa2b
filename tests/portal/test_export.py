"""My data's export (real PostgreSQL): a readable document grouped by kind, each item folded
with what happened to it later (undo, answers), meetings summarised per week, nothing of the
person's lost, no secret and no pulse answer in it; the CSV numeric and with a byte-order
mark."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.weeks import iso_week_of
from shared.eventlog import EventStore, NewEvent
from tests.conftest import DemoOrg
from tests.portal.conftest import Member

pytestmark = pytest.mark.integration


def meeting(store: EventStore, org: DemoOrg, m: Member, start: datetime, key: str) -> None:
    data = {"person_id": str(m.id), "connection_id": str(uuid.uuid5(m.id, "local")),
            "meeting_key": key, "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat(), "attendee_count": 4,
            "organizer_is_self": key == "m0", "response_status": "accepted",
            "recurring": True}  # fmt: skip
    store.append(org.tenant_id, f"calendar-{m.id}", None, [NewEvent("MeetingObserved", data)])


def test_the_export_is_grouped_by_kind_and_summarises_meetings(
    member: Callable[..., Member], store: EventStore, org: DemoOrg
):
    m = member()
    m.post("/actions", {"tactic": "learning_bit", "minutes": "10", "audience": "private",
                        "note": "read the RFC"})  # fmt: skip
    m.post("/actions", {"tactic": "regular_signaling", "minutes": "5", "audience": "team"})
    journal = store.read_stream(f"journal-{m.id}")
    undone = journal[-1].data["action_id"]
    assert m.post(f"/actions/{undone}/undo").status_code in (200, 302)
    asked = m.post("/feedback", {"question": "Was that clear?", "expires_in_days": "7"})
    assert asked.status_code == 302
    monday = datetime(2026, 11, 30, 9, tzinfo=UTC)
    for day in range(60):  # sixty meetings, two weeks: two rows, not sixty
        meeting(store, org, m, monday + timedelta(days=day % 10, hours=day % 6), f"m{day}")
    cancel = {"person_id": str(m.id), "connection_id": str(uuid.uuid5(m.id, "local")),
              "meeting_key": "m1"}  # fmt: skip
    store.append(org.tenant_id, f"calendar-{m.id}", None, [NewEvent("MeetingCancelled", cancel)])
    team = re.search(r'name="team_id" value="([0-9a-f-]+)"', m.page("/pulse"))
    assert team
    answers = {item: "5" for item in re.findall(r'name="(\w+)" value="5"', m.page("/pulse"))}
    assert m.post("/pulse", {"team_id": team.group(1), **answers}).status_code == 302

    doc = m.client.get("/data/export.json").get_json()
    assert doc["format"] == 2 and doc["person_id"] == str(m.id)
    assert "events" not in doc  # not a raw event log
    assert doc["profile"]["display_name"] == "Robin" and doc["profile"]["email"] == m.email
    kept, retracted = doc["actions"]
    assert kept["tactic"] == "learning_bit" and kept["note"] == "read the RFC"
    assert kept["minutes"] == 10 and kept["retracted_at"] is None
    assert retracted["action_id"] == undone and retracted["retracted_at"] is not None
    (question,) = doc["feedback_requests"]
    assert question["question"] == "Was that clear?" and question["answer"] is None
    this, following = doc["meetings_by_week"]
    assert (this["week"], following["week"]) == ("2026-W49", "2026-W50")
    assert this["meetings"] + following["meetings"] == 59  # one cancelled
    assert this["cancelled"] + following["cancelled"] == 1
    assert this["meeting_hours"] == this["meetings"] / 2 and this["organised_by_me"] == 1
    assert doc["calendar_connections"] == []  # the meetings came without a connection event
    account = [row["event"] for row in doc["account"]]
    assert "PersonInvited" in account and "PersonJoined" in account
    text = json.dumps(doc)
    for secret in ("password_hash", "token_hash", "argon2", "responder_hash", "answers"):
        assert secret not in text  # no secret, no pulse answer: nothing links them to me
    assert iso_week_of(datetime.now(UTC)) == kept["week"]

    response = m.client.get("/data/export.csv")
    assert response.mimetype == "text/csv" and response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["section"] for r in rows if r["section"] == "actions"] == ["actions", "actions"]
    assert rows[0]["note"] == "read the RFC" and rows[0]["minutes"] == "10"
    weeks = [r for r in rows if r["section"] == "meetings_by_week"]
    assert [float(r["meeting_hours"]) for r in weeks] == [
        this["meeting_hours"],
        following["meeting_hours"],
    ]
    assert any(r["section"] == "feedback_requests" and r["answer"] == "" for r in rows)
