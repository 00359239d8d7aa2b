"""The event of a weekly release of lever figures (issue 17, docs/privacy.md).

A release is computed once, when its week has closed (plus the grace period), and kept in
the log: a rebuild reproduces it, an auditor can read it, and nothing that arrives later
changes it. It holds only noised aggregates over at least k people, never a person.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.eventlog.iso_week_field import IsoWeek

RELEASE_K_MAX = 100
RELEASE_MAX_CHARS = 60_000


class LeverReleasePublished(Schema):
    """One team's (or, without ``team_id``, the organisation's) figures of one ISO week."""

    team_id = fields.UUID(required=True, allow_none=True)
    week = IsoWeek(required=True)
    k = fields.Integer(required=True, strict=True, validate=validate.Range(3, RELEASE_K_MAX))
    epsilon_milli = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1), metadata={"description":
        "the privacy budget of the team-week, in thousandths"}
    )  # fmt: skip
    model_version = fields.Integer(required=True, strict=True)
    release = fields.String(
        required=True, validate=validate.Length(min=2, max=RELEASE_MAX_CHARS), metadata={
        "description": "the released figures as JSON (shared.domain.releases.node_release)"}
    )  # fmt: skip


RELEASE_EVENTS = [
    (
        LeverReleasePublished,
        None,
        "A team's (or the organisation's) lever figures of a closed ISO week, over at least "
        "k people and noised once (differential privacy).",
    ),
]
"""The entries events.py registers."""


def release_stream(node_id: str, week: str) -> str:
    """The stream of one node's release of one week (one event, ever).

    Parameters:
        node_id: the team's id, or the organisation's for its own release.
        week: the ISO week.

    Returns:
        ``release-{node_id}-{week}``.
    """
    return f"release-{node_id}-{week}"
