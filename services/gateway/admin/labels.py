"""What the console shows for the codes it reads: roles, statuses, audit kinds, event types
and the audit's detail fields and values. The codes stay in URLs, forms, the API and the
audit's CSV; pages show these labels, translated where shown (every template of the
blueprint has them as ``labels``: ``{{ _(labels.roles[code]) }}``)."""

from __future__ import annotations

from typing import Any

from services.gateway.admin.blueprint import bp
from shared.i18n import N_
from shared.invitations import INVITATION_DAYS

ROLES = {"employee": N_("Employee"), "manager": N_("Manager"), "admin": N_("Admin")}
STATUSES = {
    "invited": N_("Invited"),
    "active": N_("Active"),
    "left": N_("Left"),
    "erased": N_("Erased"),
}
KINDS = {
    "organisation": N_("Organisation and teams"),
    "people": N_("People"),
    "credentials": N_("Passwords, tokens and second factors"),
    "sign-ins": N_("Sign-ins"),
    "exports": N_("Exports"),
    "integrations": N_("Integrations"),
}
EVENTS = {
    "OrganizationCreated": N_("Organisation created"),
    "OrganizationSettingsChanged": N_("Settings changed"),
    "TeamCreated": N_("Team created"),
    "TeamManagerAssigned": N_("Manager assigned"),
    "TeamRenamed": N_("Team renamed"),
    "TeamMoved": N_("Team moved"),
    "TeamManagerRemoved": N_("Manager removed"),
    "PersonInvited": N_("Invited"),
    "PersonJoined": N_("Joined"),
    "PersonRoleChanged": N_("Role changed"),
    "PersonMovedTeam": N_("Moved to another team"),
    "PersonLeft": N_("Left"),
    "PersonErased": N_("Erased"),
    "PasswordSet": N_("Password set"),
    "AccessTokenCreated": N_("Token created"),
    "AccessTokenRevoked": N_("Token revoked"),
    "SignedOutEverywhere": N_("Logged out everywhere"),
    "SecondFactorEnrolled": N_("Second factor set up"),
    "SecondFactorRemoved": N_("Second factor removed"),
    "RecoveryCodeUsed": N_("Recovery code used"),
    "SignedIn": N_("Signed in"),
    "DataExported": N_("Data exported"),
    "CalendarConnected": N_("Calendar connected"),
    "CalendarDisconnected": N_("Calendar disconnected"),
    "SlackAppInstalled": N_("Slack installed"),
    "SlackAppUninstalled": N_("Slack uninstalled"),
    "SlackAccountLinked": N_("Slack account linked"),
    "SlackAccountUnlinked": N_("Slack account unlinked"),
}

PROJECTION_STATUSES = {"live": N_("live"), "failed": N_("failed")}
FIELDS = {
    "role": N_("role"),
    "k": N_("k"),
    "pulse_cadence_weeks": N_("weeks between pulses"),
    "require_totp": N_("second factor required"),
    "default_locale": N_("default language"),
    "kind": N_("kind"),
    "provider": N_("provider"),
    "reason": N_("reason"),
    "method": N_("method"),
    "export": N_("export"),
    "format": N_("format"),
    "lever": N_("lever"),
    "name": N_("name"),
    "parent": N_("parent"),
    "team": N_("team"),
    "parent team": N_("parent team"),
    "from team": N_("from team"),
    "to team": N_("to team"),
}
"""The audit's detail fields (``Entry.parts``), as the page names them."""
CODED = {
    "role=employee": N_("employee"),
    "role=manager": N_("manager"),
    "role=admin": N_("admin"),
    "require_totp=True": N_("yes"),
    "require_totp=False": N_("no"),
    "default_locale=en": "English",
    "default_locale=de": "Deutsch",
    "default_locale=fr": "Français",
    "kind=personal": N_("personal token"),
    "kind=session": N_("API sign-in"),
    "method=password": N_("password"),
    "method=password+totp": N_("password and second factor"),
    "method=sso": N_("single sign-on"),
    "export=personal_data": N_("personal data"),
    "export=team_levers": N_("team levers"),
    "export=organisation_levers": N_("organisation levers"),
    "export=audit": N_("audit"),
    "reason=user": N_("by the person"),
    "reason=revoked": N_("access revoked"),
    "reason=invalid_grant": N_("access expired"),
    "reason=erased": N_("erased"),
    "reason=admin": N_("by an admin"),
    "reason=uninstalled": N_("app uninstalled"),
    "parent=none (top level)": N_("none (top level)"),
}
"""The audit's coded values (``field=value``), as the page names them; others show as they
are (names, numbers)."""


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "labels": {
            "roles": ROLES,
            "statuses": STATUSES,
            "kinds": KINDS,
            "events": EVENTS,
            "fields": FIELDS,
            "coded": CODED,
            "projection_statuses": PROJECTION_STATUSES,
        },
        "invitation_days": INVITATION_DAYS,
    }
