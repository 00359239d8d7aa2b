"""The levers' per-event transitions and membership fold on their own (no database): the
rules catch-up and rebuild share (shared/projections/levers/transitions.py, membership.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from shared.domain.weeks import week_index
from shared.projections.levers.membership import (
    MembershipChange,
    MembershipFold,
    backfill,
    by_person,
    kept,
    team_at,
)
from shared.projections.levers.transitions import LeverFacts, answer_output_only

TENANT = "00000000-0000-0000-0000-00000000000a"
ANNA = "00000000-0000-0000-0000-000000000001"
RED, BLUE = "00000000-0000-0000-0000-0000000000r1", "00000000-0000-0000-0000-0000000000b1"
MONDAY = datetime(2026, 3, 2, 10, tzinfo=UTC)  # 2026-W10


def event(kind: str, at: datetime, **data: Any) -> Any:
    """What a transition reads of a recorded event."""
    return SimpleNamespace(
        type=kind,
        data=data,
        occurred_at=at,
        occurred_at_text=at.isoformat(),
        tenant_id_text=TENANT,
    )


def test_an_action_id_counts_once_and_its_week_is_noted() -> None:
    facts = LeverFacts()
    logged = {"person_id": ANNA, "action_id": "a1", "tactic": "prototype_first"}
    facts.add(
        [
            event("MicroActionLogged", MONDAY, audience="team", **logged),
            event("MicroActionLogged", MONDAY.replace(day=20), audience="private", **logged),
        ]
    )
    week = week_index(MONDAY.date())
    assert list(facts.actions) == ["a1"]
    action = facts.actions["a1"]
    assert (action.week, action.stretch, action.visible) == (week, True, True)
    assert facts.first_seen == {ANNA: week}
    assert set(facts.action_weeks) == {(ANNA, week), (ANNA, week + 2)}


def test_an_answer_is_judged_by_its_request_as_the_log_held_it() -> None:
    facts = LeverFacts()
    facts.add(
        [
            event("FeedbackGiven", MONDAY, person_id=ANNA, request_id="early"),
            event("FeedbackRequested", MONDAY, person_id=ANNA, request_id="early"),
            event("FeedbackRequested", MONDAY, person_id=ANNA, request_id="late"),
            event("FeedbackRequested", MONDAY, person_id=ANNA, request_id="late", action_id="x"),
            event("FeedbackGiven", MONDAY, person_id=ANNA, request_id="late"),
        ]
    )
    early, late = facts.answers
    assert facts.requests == {"early": True, "late": True}  # the first request of an id
    assert not answer_output_only(early, {})  # answered before its request was logged
    assert answer_output_only(late, {})
    assert not answer_output_only(late, {"late": False})  # stored: came before the batch


def test_a_cancellation_of_a_meeting_seen_before_is_kept_for_the_stored_one() -> None:
    facts = LeverFacts()
    start, end = "2026-03-03T09:00:00+00:00", "2026-03-03T10:00:00+00:00"
    facts.add(
        [
            event("MeetingCancelled", MONDAY, person_id=ANNA, meeting_key="old"),
            event(
                "MeetingObserved",
                MONDAY,
                person_id=ANNA,
                meeting_key="new",
                start=start,
                end=end,
                response_status="accepted",
            ),
            event("MeetingCancelled", MONDAY, person_id=ANNA, meeting_key="new"),
        ]
    )
    assert facts.meetings[(ANNA, "old")] is None
    new = facts.meetings[(ANNA, "new")]
    assert new is not None and new.cancelled and not new.counted
    assert facts.first_seen == {ANNA: week_index(MONDAY.date()) - 1}


def test_membership_moves_and_management_in_event_time() -> None:
    fold = MembershipFold()
    for change in [
        MembershipChange("PersonInvited", TENANT, ANNA, 10, RED),
        MembershipChange("PersonMovedTeam", TENANT, ANNA, 12, BLUE),
        MembershipChange("TeamManagerAssigned", TENANT, ANNA, 15, BLUE),
        MembershipChange("PersonLeft", TENANT, ANNA, 20),
        MembershipChange("PersonMovedTeam", TENANT, ANNA, 21, RED),  # gone: nothing
    ]:
        fold.apply(change)
    intervals = fold.opened()
    assert [i.row() for i in intervals] == [
        (ANNA, TENANT, RED, 10, 11),
        (ANNA, TENANT, BLUE, 12, 14),
        (ANNA, TENANT, TENANT, 15, 20),  # a manager counts in the organisation only
    ]
    assert [team_at(intervals, TENANT, week) for week in (9, 11, 12, 15, 21)] == [
        TENANT,
        RED,
        BLUE,
        TENANT,
        TENANT,
    ]
    assert not fold.people[ANNA].active


def test_a_manager_removed_from_the_team_they_count_in_counts_in_no_team() -> None:
    """Assigned to lead red (out of it), moved into red (counted in it again), removed as
    its manager: in no team from that week, as in the directory, until moved; a removal
    from another team than theirs changes nothing."""
    fold = MembershipFold()
    for change in [
        MembershipChange("PersonInvited", TENANT, ANNA, 10, RED),
        MembershipChange("TeamManagerAssigned", TENANT, ANNA, 11, RED),
        MembershipChange("PersonMovedTeam", TENANT, ANNA, 12, RED),
        MembershipChange("TeamManagerRemoved", TENANT, ANNA, 14, BLUE),  # not theirs
        MembershipChange("TeamManagerRemoved", TENANT, ANNA, 15, RED),
        MembershipChange("PersonMovedTeam", TENANT, ANNA, 18, BLUE),
    ]:
        fold.apply(change)
    intervals = fold.opened()
    assert [i.row() for i in intervals] == [
        (ANNA, TENANT, RED, 10, 10),
        (ANNA, TENANT, TENANT, 11, 11),
        (ANNA, TENANT, RED, 12, 14),
        (ANNA, TENANT, TENANT, 15, 17),
        (ANNA, TENANT, BLUE, 18, None),
    ]
    assert [team_at(intervals, TENANT, week) for week in (14, 15, 17, 18)] == [
        RED,
        TENANT,
        TENANT,
        BLUE,
    ]


def test_history_before_the_invitation_counts_in_the_team_of_the_invitation() -> None:
    """Invited into red and moved to blue in the same week: red keeps its interval without a
    week of its own (the next move, into no team, leaves blue none), and history from
    two weeks before goes to red, not to blue."""
    fold = MembershipFold()
    for change in [
        MembershipChange("PersonInvited", TENANT, ANNA, 10, RED),
        MembershipChange("PersonMovedTeam", TENANT, ANNA, 10, BLUE),
        MembershipChange("PersonMovedTeam", TENANT, ANNA, 10),  # into no team
    ]:
        fold.apply(change)
    intervals = kept(fold.opened())
    assert [i.row() for i in intervals] == [
        (ANNA, TENANT, RED, 10, 9),
        (ANNA, TENANT, TENANT, 10, None),
    ]
    assert [team_at(intervals, TENANT, week) for week in (9, 10)] == [TENANT, TENANT]
    backfill(by_person(intervals), {ANNA: 8})
    assert intervals[0].row() == (ANNA, TENANT, RED, 8, 9)
    assert [team_at(intervals, TENANT, week) for week in (7, 8, 9, 10)] == [
        TENANT,
        RED,
        RED,
        TENANT,
    ]
