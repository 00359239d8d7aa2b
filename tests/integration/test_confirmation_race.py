"""Two people answer one item at once: exactly one answer lands.

An item naming an address can be answered by the link's holder (no person) and by a person
logged in with that address; their idempotency keys have different scopes, so the key
alone would let both through. Each answer is appended against the stream version read
before it looked for an earlier answer (``VerificationCommands.append_first``). The tests
put the other answer exactly between the look and the append (the interleaving a race
needs), with no sleeps.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from shared.commands import Actor, JournalCommands
from shared.domain.errors import Conflict
from shared.domain.verification import Witness
from shared.eventlog import EventStore, RecordedEvent
from tests.conftest import DemoOrg

pytestmark = pytest.mark.integration


def interleaved(journal: JournalCommands, other: Callable[[], Any]) -> None:
    """The next look for an earlier answer runs ``other`` first, then sees nothing."""
    original = journal.append_first
    state = {"done": False}

    def racing(actor: Actor, stream: str, event: Any, key: str, earlier: Any) -> Any:
        def look() -> RecordedEvent | None:
            if not state["done"]:
                state["done"] = True
                other()
                return None  # it looked before the other answer committed
            return earlier()  # type: ignore[no-any-return]

        return original(actor, stream, event, key, look)

    journal.append_first = racing  # type: ignore[method-assign]


def types_in(store: EventStore, person: uuid.UUID, event_type: str) -> list[dict[str, Any]]:
    return [e.data for e in store.read_stream(f"journal-{person}") if e.type == event_type]


def test_a_link_and_a_session_answering_at_once_land_one_confirmation(
    store: EventStore, org: DemoOrg
):
    owner, colleague = org.people["platform-1"], org.people["payments-1"]
    email = org.emails["payments-1"]
    journal = JournalCommands(store, "secret")
    actor = Actor(tenant_id=org.tenant_id, person_id=owner, source="test")
    outcome = journal.record_outcome(actor, "sponsorship", confirmer=email).id
    link_holder = Witness(org.tenant_id, None, email)
    logged_in = Witness(org.tenant_id, colleague, email)

    racing = JournalCommands(store, "secret")
    interleaved(racing, lambda: journal.confirm(link_holder, "outcome", outcome, True, True))
    with pytest.raises(Conflict):
        racing.confirm(logged_in, "outcome", outcome, False)
    answers = [
        a for a in types_in(store, owner, "OutcomeConfirmed") if a["outcome_id"] == str(outcome)
    ]
    assert answers == [{"outcome_id": str(outcome), "person_id": str(owner), "confirmed": True}]


def test_two_answers_to_one_question_at_once_land_one(store: EventStore, org: DemoOrg):
    asker = org.people["platform-2"]
    journal = JournalCommands(store, "secret")
    actor = Actor(tenant_id=org.tenant_id, person_id=asker, source="test")
    request = journal.request_feedback(actor, "Was the demo clear?").id
    someone = Witness(org.tenant_id, org.people["payments-2"], org.emails["payments-2"])

    racing = JournalCommands(store, "secret")
    interleaved(racing, lambda: journal.give_feedback(org.tenant_id, asker, request, True))
    with pytest.raises(Conflict):
        racing.give_feedback(org.tenant_id, asker, request, False, witness=someone)
    given = [g for g in types_in(store, asker, "FeedbackGiven") if g["request_id"] == str(request)]
    assert [g["useful"] for g in given] == [True]
