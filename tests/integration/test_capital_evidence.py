"""Model 2's evidence in the capital projection: a useful answer from the named colleague
confirms the action its request names (even when the request came in an earlier batch), a
confirmer's decline overrides an earlier confirmation, absences are kept and withdrawn, a
counterpart who deposits back makes a deposit reciprocated. Alike in batches of one event,
in one pass and in a rebuild; read_capital scores it under model 2."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from shared.eventlog import EventStore, NewEvent
from shared.projections import CapitalProjection, runtime
from shared.projections.capital import read_capital
from tests.integration.isolated_projections import three_ways

pytestmark = pytest.mark.integration
START = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday


def evidence_history(person: uuid.UUID, colleague: uuid.UUID) -> dict[str, Any]:
    """The person's events and the ids they name."""
    p = str(person)
    ids = {name: str(uuid.uuid4()) for name in
           ("helped", "thanked", "request", "outcome", "away", "gone", "again")}  # fmt: skip

    def at(days: int) -> datetime:
        return START + timedelta(days=days)

    events = [
        NewEvent("MicroActionLogged", {"action_id": ids["helped"], "person_id": p,
                 "tactic": "small_exposure", "minutes": 20, "audience": "team",
                 "note": None}, at(0)),
        NewEvent("MicroActionLogged", {"action_id": ids["thanked"], "person_id": p,
                 "tactic": "relationship_deposit", "minutes": 5, "audience": "private",
                 "note": None, "counterpart_id": str(colleague)}, at(0)),
        NewEvent("FeedbackRequested", {"request_id": ids["request"], "person_id": p,
                 "action_id": ids["helped"], "question": "Was it useful?",
                 "expires_at": at(14).isoformat(), "colleague_id": str(colleague)}, at(0)),
        NewEvent("FeedbackGiven", {"request_id": ids["request"], "person_id": p,
                 "useful": True, "comment": None, "confirmed": True}, at(1)),
        NewEvent("OutcomeRecorded", {"outcome_id": ids["outcome"], "person_id": p,
                 "kind": "assignment", "action_id": None, "note": None,
                 "confirmer_id": str(colleague)}, at(2)),
        NewEvent("OutcomeConfirmed", {"outcome_id": ids["outcome"], "person_id": p,
                 "confirmed": True}, at(3)),
        NewEvent("ActionConfirmed", {"action_id": ids["thanked"], "person_id": p,
                 "confirmed": True}, at(3)),
        NewEvent("ActionConfirmed", {"action_id": ids["thanked"], "person_id": p,
                 "confirmed": False}, at(4)),  # the latest answer wins: declined
        NewEvent("AbsenceDeclared", {"absence_id": ids["away"], "person_id": p,
                 "starts_on": "2026-03-16", "ends_on": "2026-03-29"}, at(5)),
        NewEvent("AbsenceDeclared", {"absence_id": ids["gone"], "person_id": p,
                 "starts_on": "2026-04-06", "ends_on": "2026-04-07"}, at(5)),
        NewEvent("AbsenceWithdrawn", {"absence_id": ids["gone"], "person_id": p}, at(6)),
    ]  # fmt: skip
    return {"events": events, **ids}


def test_confirmations_requests_and_absences_alike_in_every_batching(
    store: EventStore, tenant: uuid.UUID
):
    person, colleague = uuid.uuid4(), uuid.uuid4()
    history = evidence_history(person, colleague)

    def append() -> None:
        for event in history["events"]:
            store.append(tenant, f"journal-{person}", None, [event])

    suffix = three_ways(store, CapitalProjection, append)

    def rows(name: str) -> tuple[list[tuple[Any, ...]], ...]:
        with store.engine.connect() as conn:
            flagged = conn.execute(
                text(
                    f"SELECT kind, ref_id::text, confirmed, minutes, audience, "
                    f"counterpart_id::text FROM capital_contributions_{name}{suffix} "
                    "WHERE person_id = :p ORDER BY position"
                ),
                {"p": person},
            ).all()
            away = conn.execute(
                text(
                    f"SELECT absence_id::text, starts_on::text, ends_on::text "
                    f"FROM capital_absences_{name}{suffix} WHERE person_id = :p"
                ),
                {"p": person},
            ).all()
            asked = conn.execute(
                text(
                    f"SELECT request_id::text, action_id::text FROM capital_requests_{name}"
                    f"{suffix} WHERE person_id = :p"
                ),
                {"p": person},
            ).all()
        return [tuple(r) for r in flagged], [tuple(r) for r in away], [tuple(r) for r in asked]

    expected = rows("b")
    assert rows("o") == rows("r") == expected
    flagged, away, asked = expected
    assert flagged == [
        ("action", history["helped"], True, 20, "team", None),
        ("action", history["thanked"], False, 5, "private", str(colleague)),
        ("outcome", history["outcome"], True, None, None, None),
    ]
    assert away == [(history["away"], "2026-03-16", "2026-03-29")]
    assert asked == [(history["request"], history["helped"])]


def test_read_capital_splits_confirmed_from_self_reported_and_shows_leave(
    store: EventStore, tenant: uuid.UUID
):
    person, colleague = uuid.uuid4(), uuid.uuid4()
    history = evidence_history(person, colleague)
    for event in history["events"]:
        store.append(tenant, f"journal-{person}", None, [event])
    back = {"action_id": str(uuid.uuid4()), "person_id": str(colleague),
            "tactic": "relationship_deposit", "minutes": 5, "audience": "private",
            "note": None, "counterpart_id": str(person)}  # fmt: skip
    rt = runtime(store)
    rt.ensure()
    rt.catch_up("capital")
    day = START.date() + timedelta(days=6)
    with store.engine.connect() as conn:
        one_way = read_capital(conn, tenant, person, day)
    store.append(tenant, f"journal-{colleague}", None, [NewEvent("MicroActionLogged", back, START)])
    rt.catch_up("capital")
    with store.engine.connect() as conn:
        capital = read_capital(conn, tenant, person, day)
    assert capital["model_version"] == 2
    capability = capital["scores"]["capability"]
    assert capability["confirmed"] > capability["self_reported"] == 0.0
    assert capability["value"] == pytest.approx(capability["confirmed"], abs=0.05)
    assert capital["scores"]["relationships"]["value"] > one_way["scores"]["relationships"]["value"]
    assert capital["leave"] == [{"starts_on": "2026-03-16", "ends_on": "2026-03-29"}]
    assert capital["next_action"]["capability"]["gain_if_confirmed"] > 0
