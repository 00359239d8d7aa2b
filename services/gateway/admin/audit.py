"""Audit: who changed what and when, read from the event log (never a copy): the admins'
and managers' changes to the organisation, joining, passwords, tokens (an API sign-in is a
session token), second factors, logging out everywhere, calendar and Slack connections,
erasures, portal sign-ins and exports (``SignedIn``, ``DataExported``). Filterable by kind, by
who acted and by day; exportable as CSV (itself recorded as an export).

Personal content never shows: the page reads no journal event, and of the events it reads
only fields that are not personal (roles, teams, settings, token kinds, providers); people
are named by the directory (their address), which the admin sees on the people page anyway.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Response, render_template, request
from sqlalchemy import Connection, select, text

from services.gateway.admin.blueprint import bp
from services.gateway.dashboards.views import safe
from services.gateway.portal.forms import me
from services.gateway.resources import resources
from shared.commands import activity
from shared.directory import Person, Team
from shared.i18n import gettext

KINDS: dict[str, tuple[str, ...]] = {
    "organisation": (
        "OrganizationCreated",
        "OrganizationSettingsChanged",
        "TeamCreated",
        "TeamManagerAssigned",
        "TeamRenamed",
        "TeamMoved",
        "TeamManagerRemoved",
    ),
    "people": (
        "PersonInvited",
        "PersonJoined",
        "PersonRoleChanged",
        "PersonMovedTeam",
        "PersonLeft",
        "PersonErased",
    ),
    "credentials": (
        "PasswordSet",
        "AccessTokenCreated",
        "AccessTokenRevoked",
        "SignedOutEverywhere",
        "SecondFactorEnrolled",
        "SecondFactorRemoved",
        "RecoveryCodeUsed",
    ),
    "sign-ins": ("SignedIn", "AccessTokenCreated"),
    "exports": ("DataExported",),
    "integrations": (
        "CalendarConnected",
        "CalendarDisconnected",
        "SlackAppInstalled",
        "SlackAppUninstalled",
        "SlackAccountLinked",
        "SlackAccountUnlinked",
    ),
}
TYPES = tuple(dict.fromkeys(t for types in KINDS.values() for t in types))
DETAILS = (
    "role", "k", "pulse_cadence_weeks", "require_totp", "default_locale", "kind", "provider",
    "reason", "method", "export", "format", "lever",
)  # fmt: skip
"""The fields shown as they are: none is personal (docs/events.md)."""
TEAM_FIELDS = ("team_id", "parent_team_id", "from_team_id", "to_team_id")
PAGE = 100
CSV_MAX = 50_000


@dataclass(frozen=True)
class AuditQuery:
    kind: str = ""
    actor: str = ""  # an address
    since: date | None = None
    until: date | None = None

    @classmethod
    def of(cls, args: Any) -> tuple[AuditQuery, dict[str, list[str]]]:
        errors: dict[str, list[str]] = {}
        days: dict[str, date | None] = {}
        for name in ("since", "until"):
            raw = args.get(name, "").strip()
            days[name] = None
            if raw:
                try:
                    days[name] = date.fromisoformat(raw)
                except ValueError:
                    errors[name] = [gettext("Give a day as YYYY-MM-DD.")]
        kind = args.get("kind", "")
        if kind and kind not in KINDS:
            errors["kind"] = [gettext("Choose a kind of the list.")]
            kind = ""
        return cls(kind, args.get("actor", "").strip()[:320], days["since"], days["until"]), errors


@dataclass(frozen=True)
class Entry:
    position: int
    at: datetime
    who: str
    source: str
    type: str
    subject: str
    parts: tuple[tuple[str, str], ...]
    """The details as (field, value): the page labels both, the CSV shows them as they are."""

    @property
    def details(self) -> str:
        return "; ".join(f"{field}: {value}" for field, value in self.parts)


def _bounds(query: AuditQuery) -> tuple[datetime, datetime]:
    low = datetime.combine(query.since or date(1, 1, 1), time(), UTC)
    high = (
        datetime.combine(query.until, time(), UTC) + timedelta(days=1)
        if query.until and query.until < date(9999, 12, 31)
        else datetime(9999, 12, 31, tzinfo=UTC)
    )
    return low, high


def entries(
    conn: Connection, tenant_id: uuid.UUID, query: AuditQuery, limit: int, before: int | None
) -> list[Entry]:
    """The organisation's audited events, newest first.

    Parameters:
        conn: a database connection.
        tenant_id: the organisation.
        query: the filters.
        limit: at most this many.
        before: only events before this log position (the next page).

    Returns:
        The entries, people and teams named by the directory.
    """
    types = KINDS.get(query.kind, TYPES)
    low, high = _bounds(query)
    params: dict[str, Any] = {
        "t": tenant_id, "types": list(types), "low": low, "high": high, "limit": limit,
        "before": before if before is not None else 2**62,
    }  # fmt: skip
    actor_clause = ""
    if query.actor:
        actor_id = conn.execute(
            select(Person.id).where(Person.tenant_id == tenant_id, Person.email.ilike(query.actor))
        ).scalar()
        actor_clause = "AND metadata->>'actor' = :actor"
        params["actor"] = str(actor_id) if actor_id else "-"
    rows = conn.execute(
        text(
            "SELECT position, recorded_at, type, data, metadata FROM events "
            "WHERE tenant_id = :t AND type = ANY(:types) AND position < :before "
            "AND recorded_at >= :low AND recorded_at < :high "
            f"{actor_clause} ORDER BY position DESC LIMIT :limit"
        ),
        params,
    ).all()
    people, teams = _names(conn, tenant_id, rows)
    return [_entry(r, people, teams) for r in rows]


def _names(
    conn: Connection, tenant_id: uuid.UUID, rows: Iterable[Any]
) -> tuple[dict[str, str], dict[str, str]]:
    person_ids: set[str] = set()
    team_ids: set[str] = set()
    for r in rows:
        actor = r.metadata.get("actor")
        if actor and actor != "system":
            person_ids.add(actor)
        if r.data.get("person_id"):
            person_ids.add(r.data["person_id"])
        team_ids.update(r.data[f] for f in TEAM_FIELDS if r.data.get(f))
    people = {
        str(p.id): p.email or "(erased)"
        for p in conn.execute(
            select(Person.id, Person.email).where(
                Person.tenant_id == tenant_id, Person.id.in_([uuid.UUID(i) for i in person_ids])
            )
        )
    }
    teams = {
        str(t.id): t.name
        for t in conn.execute(
            select(Team.id, Team.name).where(
                Team.tenant_id == tenant_id, Team.id.in_([uuid.UUID(i) for i in team_ids])
            )
        )
    }
    return people, teams


def _entry(r: Any, people: dict[str, str], teams: dict[str, str]) -> Entry:
    actor = r.metadata.get("actor") or "system"
    details = [(f, str(r.data[f])) for f in DETAILS if f in r.data and r.data[f] is not None]
    for f in TEAM_FIELDS:
        if f == "parent_team_id" and r.type == "TeamMoved" and not r.data.get(f):
            details.append(("parent", "none (top level)"))
        elif r.data.get(f):
            details.append((f.removesuffix("_id").replace("_", " "), teams.get(r.data[f], "?")))
    if r.type in ("TeamCreated", "TeamRenamed"):
        details.insert(0, ("name", r.data["name"]))  # a team's name is not personal
    subject = people.get(r.data.get("person_id", ""), "") if r.data.get("person_id") else ""
    return Entry(
        r.position,
        r.recorded_at,
        "system" if actor == "system" else people.get(actor, "(unknown)"),
        str(r.metadata.get("source", "")),
        r.type,
        subject,
        tuple(details),
    )


@bp.get("/audit")
def audit() -> Any:
    """The audit page: a hundred entries at a time, newest first."""
    query, errors = AuditQuery.of(request.args)
    try:
        before = int(request.args["before"]) if request.args.get("before") else None
    except ValueError:
        before = None
    with resources().engine.connect() as conn:
        rows = entries(conn, me().tenant_id, query, PAGE, before)
    return render_template(
        "admin/audit.html",
        rows=rows,
        query=query,
        kinds=KINDS,
        errors=errors,
        more=len(rows) == PAGE,
    ), (422 if errors else 200)


@bp.get("/audit.csv")
def audit_csv() -> Any:
    """The filtered audit as CSV (UTF-8 with a byte-order mark, at most 50,000 entries,
    newest first)."""
    query, errors = AuditQuery.of(request.args)
    if errors:
        return Response("; ".join(m for ms in errors.values() for m in ms), 422)
    user = me()
    with resources().engine.connect() as conn:
        rows = entries(conn, user.tenant_id, query, CSV_MAX, None)
    activity.exported(resources().store, user.actor("admin"), "audit", "csv")
    out = io.StringIO()
    out.write("\ufeff")  # the byte-order mark: Excel reads the file as UTF-8, not as ANSI
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["position", "recorded_at", "who", "source", "event", "person", "details"])
    for e in rows:
        cells = [e.who, e.source, e.type, e.subject, e.details]
        writer.writerow([e.position, e.at.isoformat(), *(safe(c) for c in cells)])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )
