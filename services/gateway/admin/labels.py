"""What the console shows for the codes it reads: roles, statuses, audit kinds and event
types. The codes stay in URLs, forms, the API and the audit's CSV; pages show these labels
(every template of the blueprint has them as ``labels``)."""

from __future__ import annotations

from typing import Any

from services.gateway.admin.blueprint import bp

ROLES = {"employee": "Employee", "manager": "Manager", "admin": "Admin"}
STATUSES = {"invited": "Invited", "active": "Active", "left": "Left", "erased": "Erased"}
KINDS = {
    "organisation": "Organisation and teams",
    "people": "People",
    "credentials": "Passwords, tokens and second factors",
    "sign-ins": "Sign-ins",
    "exports": "Exports",
    "integrations": "Integrations",
}
EVENTS = {
    "OrganizationCreated": "Organisation created",
    "OrganizationSettingsChanged": "Settings changed",
    "TeamCreated": "Team created",
    "TeamManagerAssigned": "Manager assigned",
    "TeamRenamed": "Team renamed",
    "TeamMoved": "Team moved",
    "TeamManagerRemoved": "Manager removed",
    "PersonInvited": "Invited",
    "PersonJoined": "Joined",
    "PersonRoleChanged": "Role changed",
    "PersonMovedTeam": "Moved to another team",
    "PersonLeft": "Left",
    "PersonErased": "Erased",
    "PasswordSet": "Password set",
    "AccessTokenCreated": "Token created",
    "AccessTokenRevoked": "Token revoked",
    "SignedOutEverywhere": "Logged out everywhere",
    "SecondFactorEnrolled": "Second factor set up",
    "SecondFactorRemoved": "Second factor removed",
    "RecoveryCodeUsed": "Recovery code used",
    "SignedIn": "Signed in",
    "DataExported": "Data exported",
    "CalendarConnected": "Calendar connected",
    "CalendarDisconnected": "Calendar disconnected",
    "SlackAppInstalled": "Slack installed",
    "SlackAppUninstalled": "Slack uninstalled",
    "SlackAccountLinked": "Slack account linked",
    "SlackAccountUnlinked": "Slack account unlinked",
}


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"labels": {"roles": ROLES, "statuses": STATUSES, "kinds": KINDS, "events": EVENTS}}
