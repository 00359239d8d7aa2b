"""The levers read confirmed behaviour (shared/projections/levers/transitions.py, facts.py):
a reward naming a confirmer counts once confirmed, a stretch task its counterpart declined
counts as none (pure transitions, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from shared.projections.levers.transitions import LeverFacts, rewarded

TENANT = "00000000-0000-0000-0000-00000000000a"
ANNA, BEN = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"
MONDAY = datetime(2026, 3, 2, 10, tzinfo=UTC)


def event(type_: str, at: datetime = MONDAY, **data: Any) -> Any:
    """What a transition reads of a recorded event."""
    return SimpleNamespace(
        type=type_,
        data=data,
        occurred_at=at,
        occurred_at_text=at.isoformat(),
        tenant_id_text=TENANT,
    )


def outcome(outcome_id: str = "o1", **named: Any) -> Any:
    """A recognition of Anna's, naming whom ``named`` says."""
    return event("OutcomeRecorded", person_id=ANNA, outcome_id=outcome_id, kind="recognition",
                 **named)  # fmt: skip


def confirm(kind: str, item: str, confirmed: bool, person: str = ANNA) -> Any:
    """The named party's answer on Anna's item."""
    data: dict[str, Any] = {"person_id": person, "confirmed": confirmed, f"{kind}_id": item}
    return event(f"{kind.title()}Confirmed", **data)


@pytest.mark.parametrize(
    ("named", "answers", "counts"),
    [
        ({}, [], True),  # self-reported: counts as before
        ({"confirmer_id": BEN}, [], False),  # awaiting its confirmer
        ({"confirmer_email": "mentor@x.example"}, [], False),
        ({"confirmer_id": BEN}, [True], True),
        ({"confirmer_id": BEN}, [False], False),  # declined
        ({"confirmer_id": BEN}, [True, False], False),  # the last answer holds
        ({"confirmer_id": None, "confirmer_email": None}, [False], True),
    ],
)
def test_a_reward_naming_a_confirmer_counts_once_confirmed(
    named: dict[str, Any], answers: list[bool], counts: bool
) -> None:
    facts = LeverFacts()
    facts.add([outcome(**named), *(confirm("outcome", "o1", a) for a in answers)])
    reward = facts.rewards["o1"]
    assert reward.counts is counts
    assert reward.confirmed is (bool(answers) and answers[-1])


def test_an_answer_before_its_outcome_or_of_another_person_reaches_only_the_stored_one() -> None:
    facts = LeverFacts()
    facts.add(
        [
            confirm("outcome", "o1", True),  # before the outcome: kept for a stored one
            outcome("o1", confirmer_id=BEN),
            outcome("o2", confirmer_id=BEN),
            confirm("outcome", "o2", True, person=BEN),  # not Anna's outcome
        ]
    )
    assert not facts.rewards["o1"].counts and not facts.rewards["o2"].counts
    assert facts.outcome_answers == {(ANNA, "o1"): True, (BEN, "o2"): True}


def test_a_stretch_task_its_counterpart_declined_is_marked() -> None:
    facts = LeverFacts()
    logged: dict[str, Any] = {"person_id": ANNA, "tactic": "small_exposure", "audience": "team"}
    facts.add(
        [
            event("MicroActionLogged", **logged, action_id="a1", counterpart_id=BEN),
            event("MicroActionLogged", **logged, action_id="a2", counterpart_id=BEN),
            confirm("action", "a1", False),
            confirm("action", "a2", False),
            confirm("action", "a2", True),  # the last answer holds
            confirm("action", "a9", False),  # stored before the batch
            confirm("action", "a1", True, person=BEN),  # not Ben's action
        ]
    )
    assert facts.actions["a1"].declined and not facts.actions["a2"].declined
    assert facts.action_answers[(ANNA, "a9")] is False


def test_rewarded_is_judged_by_event_time_for_hostile_times() -> None:
    first = datetime(1, 1, 1, tzinfo=UTC)
    last = datetime(9999, 12, 31, 23, tzinfo=UTC)
    assert rewarded(first, [first + timedelta(days=14)])
    assert not rewarded(first, [first + timedelta(days=14, seconds=1)])
    assert rewarded(last - timedelta(days=14), [last])
