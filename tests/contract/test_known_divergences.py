"""Histories on which a projection broke the contract, found by the contract suite: each
mended, each kept here as a plain test, its case back in the generator
(``histories.OUTCOMES_BEFORE_THEIR_ACTIONS``, ``histories.ACTIONS_BEFORE_KNOWN_REWARDS``,
``histories.RETRACTIONS_OF_DUPLICATES``, ``histories.HISTORY_BEFORE_HIRING``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.eventlog import EventStore, NewEvent
from shared.projections import PROJECTIONS, Projection
from tests.contract.contract import SMALL_BATCHES, check
from tests.contract.histories import START, Ref, Write

pytestmark = pytest.mark.integration

TENANT, PERSON, TEAM = Ref("tenant", 0), Ref("person", 0), Ref("team", 0)
ACTION = Ref("action", 0)


def registered(name: str) -> Projection:
    return next(p for p in PROJECTIONS if p.name == name)


def hired(team: Ref | None) -> Write:
    """``PERSON`` invited into ``team`` (None: no team) at ``START`` and joined."""
    invited = {"person_id": PERSON, "email": "p@contract.test", "role": "employee",
               "team_id": team}  # fmt: skip
    joined = {"person_id": PERSON, "display_name": "P", "time_zone": "UTC"}
    events = [NewEvent("PersonInvited", invited, START), NewEvent("PersonJoined", joined, START)]
    return Write("append", TENANT, [("person-person0", events)])


def logged(days_after_start: int) -> NewEvent:
    data = {"action_id": ACTION, "person_id": PERSON, "tactic": "learning_bit", "minutes": 15,
            "audience": "team", "note": None}  # fmt: skip
    return NewEvent("MicroActionLogged", data, START + timedelta(days=days_after_start))


def test_capital_an_imported_outcome_before_its_action(contract_store: EventStore) -> None:
    """An import puts an outcome before the action it names (the importer keeps the order it
    is given): the action's logging credits it with its tactic, in one pass as in batches
    of one event (capital's pending links carry it from the outcome's batch to the
    action's)."""
    outcome = {"outcome_id": Ref("outcome", 0), "person_id": PERSON, "kind": "invitation",
               "action_id": ACTION, "note": None}  # fmt: skip
    imported = [NewEvent("OutcomeRecorded", outcome, START + timedelta(days=2)), logged(1)]
    history = [hired(None), Write("batch", TENANT, [("journal-person0", imported)])]
    check(contract_store, registered("capital"), history, SMALL_BATCHES)


def test_levers_history_from_before_the_invitation_then_a_move(contract_store: EventStore):
    """Invited without a team on a Monday, history imported from two weeks before, moved into
    a team the next day: the early weeks count in the team of the invitation (the
    organisation's no-team group) in one pass and in batches alike (mended: catch-up used to
    backfill the team open when the history came, the one pass the team moved into)."""
    moved = {"person_id": PERSON, "from_team_id": None, "to_team_id": TEAM}
    history = [
        hired(None),
        Write("batch", TENANT, [("journal-person0", [logged(-14)])]),
        Write(
            "append",
            TENANT,
            [("person-person0", [NewEvent("PersonMovedTeam", moved, START + timedelta(days=1))])],
        ),
    ]
    check(contract_store, registered("levers"), history, SMALL_BATCHES)


def test_levers_an_action_imported_after_its_reward(contract_store: EventStore) -> None:
    """In a team for a week, an outcome recorded (an invitation: a reward), then an import of
    a visible action from the day before it: the action is rewarded (the reward came within
    14 days after it) in one pass and in batches alike (mended: catch-up used to look for
    rewards only in a batch that brought one)."""
    outcome = {"outcome_id": Ref("outcome", 0), "person_id": PERSON, "kind": "invitation",
               "action_id": None, "note": None}  # fmt: skip
    recorded = NewEvent("OutcomeRecorded", outcome, START + timedelta(days=10))
    history = [
        hired(TEAM),
        Write("append", TENANT, [("journal-person0", [recorded])]),
        Write("batch", TENANT, [("journal-person0", [logged(9)])]),
    ]
    check(contract_store, registered("levers"), history, SMALL_BATCHES)


def test_capital_a_retracted_action_imported_twice(contract_store: EventStore) -> None:
    """An action imported twice without an idempotency key (two events, one action id), then
    retracted: no row of it stays, in batches or in one pass (one pass once kept one)."""
    retracted = {k: v for k, v in logged(1).data.items() if k != "note"}
    history = [
        hired(None),
        Write("batch", TENANT, [("journal-person0", [logged(1)])]),
        Write("batch", TENANT, [("journal-person0", [logged(1)])]),
        Write(
            "append",
            TENANT,
            [
                (
                    "journal-person0",
                    [NewEvent("MicroActionRetracted", retracted, START + timedelta(days=1))],
                )
            ],
        ),
    ]
    check(contract_store, registered("capital"), history, SMALL_BATCHES)
