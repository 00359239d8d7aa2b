"""The events of a team's life after its creation (issue #22): renamed, moved under another
parent, a manager removed. Only the directory handles them: the levers read model counts
people by team, and the team tree is read from the directory when a week is released, so a
move changes the totals of the weeks released after it (released weeks keep theirs)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class TeamRenamed(Schema):
    team_id = fields.UUID(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TeamMoved(Schema):
    """The command refuses a cycle (a team under itself or under a team below it)."""

    team_id = fields.UUID(required=True)
    parent_team_id = fields.UUID(load_default=None, allow_none=True)


class TeamManagerRemoved(Schema):
    """The person no longer manages the team (they keep their role; an admin may move them
    into a team as a member)."""

    team_id = fields.UUID(required=True)
    person_id = fields.UUID(required=True)


TEAM_EVENTS: list[tuple[type[Schema], str | None, str]] = [
    (TeamRenamed, None, "An admin (or SCIM) renamed a team."),
    (TeamMoved, None, "An admin moved a team under another parent team (or to the top)."),
    (TeamManagerRemoved, None, "A person stopped managing a team."),
]
