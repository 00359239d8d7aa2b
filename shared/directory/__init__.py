"""The directory: organisations, teams, people and their tokens, as a read model.

Kept current inline (in the appending transaction) by :func:`apply`, and rebuildable from the
event log by :func:`rebuild`.
"""

from shared.directory.models import AccessToken, Organization, Person, Team, TeamMember
from shared.directory.projector import DIRECTORY_EVENTS, apply, rebuild

__all__ = [
    "DIRECTORY_EVENTS",
    "AccessToken",
    "Organization",
    "Person",
    "Team",
    "TeamMember",
    "apply",
    "rebuild",
]
