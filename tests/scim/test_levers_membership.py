"""The lever team of a person taken out of a team or returning after leaving (the events
SCIM writes): one fold rule, the same for catch-up and rebuild."""

from __future__ import annotations

from shared.projections.levers.membership import MembershipChange, MembershipFold

TENANT, TEAM, OTHER = "tenant", "team-a", "team-b"


def _fold(*changes: tuple[str, int, str | None]) -> list[tuple[str, int, int | None]]:
    fold = MembershipFold()
    for kind, week, team in changes:
        fold.apply(MembershipChange(kind, TENANT, "p", week, team))
    return [(i.team, i.from_week, i.to_week) for i in fold.opened()]


def test_removed_from_the_team_counts_in_the_organisation_from_that_week() -> None:
    got = _fold(("PersonInvited", 10, TEAM), ("PersonRemovedFromTeam", 12, TEAM))
    assert got == [(TEAM, 10, 11), (TENANT, 12, None)]


def test_removal_from_another_team_changes_nothing() -> None:
    got = _fold(("PersonInvited", 10, TEAM), ("PersonRemovedFromTeam", 12, OTHER))
    assert got == [(TEAM, 10, None)]


def test_returning_counts_again_from_the_next_week_in_the_named_team() -> None:
    got = _fold(
        ("PersonInvited", 10, TEAM),
        ("PersonLeft", 12, None),
        ("PersonMovedTeam", 13, OTHER),  # while away: not counted
        ("PersonReturned", 14, OTHER),
    )
    assert got == [(TEAM, 10, 12), (OTHER, 15, None)]


def test_returning_without_a_team_counts_in_the_organisation() -> None:
    got = _fold(("PersonInvited", 10, TEAM), ("PersonLeft", 12, None), ("PersonReturned", 12, None))
    assert got == [(TEAM, 10, 12), (TENANT, 13, None)]


def test_returning_while_active_changes_nothing() -> None:
    got = _fold(("PersonInvited", 10, TEAM), ("PersonReturned", 12, OTHER))
    assert got == [(TEAM, 10, None)]
