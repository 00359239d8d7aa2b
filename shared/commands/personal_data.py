"""Everything the log holds about a person, for them to take away: a readable export,
grouped by kind (JSON or CSV).

The export reads the event log, the truth, not the read models: the person's journal,
profile, calendar and chat streams, decrypted with their data key (after erasure, personal
fields read as erased). Each item is folded with what happened to it later (an action with
its undo and its confirmation, a feedback request with its answer); calendar meetings are
summarised per ISO week (counts and hours), the way Compound uses them. Secrets (password
and token hashes, the second factor's key and recovery-code digests) are left out.
Anonymous pulse responses cannot be exported: nothing links them to anyone
(docs/privacy.md).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.commands.base import Actor
from shared.domain.errors import Forbidden
from shared.domain.weeks import iso_week_of
from shared.eventlog import EventStore, RecordedEvent
from shared.i18n import gettext

FORMAT = 2
"""The export's format: 2 is grouped by kind (1 was one row per event)."""
STREAMS = (
    "person-{id}",
    "journal-{id}",
    "calendar-{id}",
    "slack-person-{id}",
    "msteams-person-{id}",
    "sso-identity-{id}",
    "preferences-{id}",
)
SECRET_FIELDS = frozenset(
    {"token_hash", "password_hash", "secret", "recovery_code_hashes", "code_hash"}
)
SECTIONS = (
    "actions",
    "outcomes",
    "plans",
    "experiments",
    "feedback_requests",
    "absences",
    "calendar_connections",
    "meetings_by_week",
    "out_of_office",
    "account",
)
"""The export's lists, in the order the JSON and the CSV give them."""
PROFILE_FIELDS = ("email", "display_name", "role", "time_zone")
PROFILE_EVENTS = frozenset(
    {
        "PersonInvited",
        "PersonJoined",
        "PersonRoleChanged",
        "PersonEmailChanged",
        "PersonRenamed",
        "WorkingHoursSet",
    }
)
"""The events whose ``PROFILE_FIELDS`` say who the person is now."""

Row = dict[str, Any]


def _at(when: datetime) -> str:
    return when.isoformat()


@dataclass
class PersonalExport:
    """A person's events folded into readable items, one list per kind."""

    person_id: str
    profile: Row = field(default_factory=dict)
    items: dict[str, dict[str, Row]] = field(
        default_factory=lambda: {name: {} for name in SECTIONS}
    )
    meetings: dict[tuple[str, str], Row] = field(default_factory=dict)
    cancelled: set[tuple[str, str]] = field(default_factory=set)

    def add(self, e: RecordedEvent) -> None:
        """Fold one event in (events in log order)."""
        data = {k: v for k, v in e.data.items() if k not in SECRET_FIELDS}
        fold = _FOLDS.get(e.type)
        if fold is not None:
            fold(self, e, data)
        else:
            self.keep("account", f"{e.position}", _event_row(e, data))
        for name in PROFILE_FIELDS:
            if data.get(name) is not None and e.type in PROFILE_EVENTS:
                self.profile[name] = data[name]

    def keep(self, section: str, key: str, row: Row) -> None:
        self.items[section][key] = row

    def update(self, section: str, key: str, **changes: Any) -> None:
        """Changes to an item kept earlier; an item the log lacks (imported halves) is
        kept as what is known of it."""
        self.items[section].setdefault(key, {}).update(changes)

    def as_document(self) -> dict[str, Any]:
        """The export as one JSON-ready mapping: format, person, profile, then each list."""
        self.items["meetings_by_week"] = {
            row["week"]: row for row in meetings_by_week(self.meetings, self.cancelled)
        }
        self.items["out_of_office"] = {
            f"{k[0]}/{k[1]}": {"start": row["start"], "end": row["end"]}
            for k, row in self.meetings.items()
            if row.get("out_of_office") and k not in self.cancelled
        }
        return {
            "format": FORMAT,
            "person_id": self.person_id,
            "profile": self.profile,
            **{name: list(self.items[name].values()) for name in SECTIONS},
        }


def _event_row(e: RecordedEvent, data: Row) -> Row:
    return {"event": e.type, "at": _at(e.occurred_at), **_without_person(data)}


def _without_person(data: Row) -> Row:
    return {k: v for k, v in data.items() if k != "person_id"}


def _action(x: PersonalExport, e: RecordedEvent, d: Row) -> None:
    x.keep(
        "actions",
        str(d["action_id"]),
        {
            "action_id": d["action_id"],
            "occurred_at": _at(e.occurred_at),
            "week": iso_week_of(e.occurred_at),
            "tactic": d["tactic"],
            "minutes": d["minutes"],
            "audience": d["audience"],
            "note": d.get("note"),
            "counterpart_id": d.get("counterpart_id"),
            "confirmation": None,
            "retracted_at": None,
        },
    )


def _retracted(x: PersonalExport, e: RecordedEvent, d: Row) -> None:
    x.update("actions", str(d["action_id"]), retracted_at=_at(e.recorded_at))


def _confirmed(section: str, key: str) -> Any:
    def fold(x: PersonalExport, e: RecordedEvent, d: Row) -> None:
        answer = "confirmed" if d["confirmed"] else "declined"
        x.update(section, str(d[key]), confirmation=answer, confirmed_at=_at(e.occurred_at))

    return fold


def _outcome(x: PersonalExport, e: RecordedEvent, d: Row) -> None:
    x.keep(
        "outcomes",
        str(d["outcome_id"]),
        {
            "outcome_id": d["outcome_id"],
            "occurred_at": _at(e.occurred_at),
            "week": iso_week_of(e.occurred_at),
            "kind": d["kind"],
            "action_id": d.get("action_id"),
            "note": d.get("note"),
            "confirmer_id": d.get("confirmer_id"),
            "confirmer_email": d.get("confirmer_email"),
            "confirmation": None,
        },
    )


def _plan(x: PersonalExport, e: RecordedEvent, d: Row) -> None:
    labels = list(d.get("labels") or [])
    tactics = list(d["tactics"])
    labels += [None] * (len(tactics) - len(labels))
    x.keep(
        "plans",
        str(e.position),
        {
            "week": d["week"],
            "set_at": _at(e.occurred_at),
            "items": [
                {"tactic": t, "label": label} for t, label in zip(tactics, labels, strict=False)
            ],
        },
    )


def _experiment(x: PersonalExport, e: RecordedEvent, d: Row) -> None:
    x.keep(
        "experiments",
        str(d["experiment_id"]),
        {
            "experiment_id": d["experiment_id"],
            "started_at": _at(e.occurred_at),
            "tactic": d["tactic"],
            "starts_on": d["starts_on"],
            "weeks": d.get("weeks", 4),
            "hypothesis": d.get("hypothesis"),
            "ended_at": None,
            "reflection": None,
        },
    )


def _experiment_ended(x: PersonalExport, e: RecordedEvent, d: Row) -> None:
    x.update(
        "experiments",
        str(d["experiment_id"]),
        ended_at=_at(e.occurred_at),
        reflection=d.get("reflection"),
    )


def _asked(x: PersonalExport, e: RecordedEvent, d: Row) -> None:
    x.keep(
        "feedback_requests",
        str(d["request_id"]),
        {
            "request_id": d["request_id"],
            "asked_at": _at(e.occurred_at),
            "question": d["question"],
            "action_id": d.get("action_id"),
            "colleague_id": d.get("colleague_id"),
            "colleague_email": d.get("colleague_email"),
            "expires_at": d["expires_at"],
            "answer": None,
        },
    )


def _answered(x: PersonalExport, e: RecordedEvent, d: Row) -> None:
    answer = {
        "answered_at": _at(e.occurred_at),
        "useful": d["useful"],
        "comment": d.get("comment"),
        "confirmed": bool(d.get("confirmed")),
    }
    x.update("feedback_requests", str(d["request_id"]), answer=answer)


def _absence(x: PersonalExport, e: RecordedEvent, d: Row) -> None:
    x.keep(
        "absences",
        str(d["absence_id"]),
        {
            "absence_id": d["absence_id"],
            "starts_on": d["starts_on"],
            "ends_on": d["ends_on"],
            "declared_at": _at(e.occurred_at),
            "withdrawn_at": None,
        },
    )


def _absence_withdrawn(x: PersonalExport, e: RecordedEvent, d: Row) -> None:
    x.update("absences", str(d["absence_id"]), withdrawn_at=_at(e.occurred_at))


def _connected(x: PersonalExport, e: RecordedEvent, d: Row) -> None:
    x.keep(
        "calendar_connections",
        str(d["connection_id"]),
        {
            "connection_id": d["connection_id"],
            "provider": d["provider"],
            "connected_at": _at(e.occurred_at),
            "disconnected_at": None,
            "reason": None,
        },
    )


def _disconnected(x: PersonalExport, e: RecordedEvent, d: Row) -> None:
    x.update(
        "calendar_connections",
        str(d["connection_id"]),
        disconnected_at=_at(e.occurred_at),
        reason=d.get("reason", "user"),
    )


def _meeting(x: PersonalExport, e: RecordedEvent, d: Row) -> None:
    key = (str(d["connection_id"]), str(d["meeting_key"]))
    x.meetings[key] = {**d, "out_of_office": e.type == "OutOfOfficeObserved"}
    x.cancelled.discard(key)  # seen again after a cancellation: it is back


def _meeting_cancelled(x: PersonalExport, e: RecordedEvent, d: Row) -> None:
    x.cancelled.add((str(d["connection_id"]), str(d["meeting_key"])))


_FOLDS = {
    "MicroActionLogged": _action,
    "MicroActionRetracted": _retracted,
    "ActionConfirmed": _confirmed("actions", "action_id"),
    "OutcomeRecorded": _outcome,
    "OutcomeConfirmed": _confirmed("outcomes", "outcome_id"),
    "WeeklyPlanSet": _plan,
    "ExperimentStarted": _experiment,
    "ExperimentEnded": _experiment_ended,
    "FeedbackRequested": _asked,
    "FeedbackGiven": _answered,
    "AbsenceDeclared": _absence,
    "AbsenceWithdrawn": _absence_withdrawn,
    "CalendarConnected": _connected,
    "CalendarDisconnected": _disconnected,
    "MeetingObserved": _meeting,
    "OutOfOfficeObserved": _meeting,
    "MeetingCancelled": _meeting_cancelled,
}


def meetings_by_week(
    meetings: dict[tuple[str, str], Row], cancelled: set[tuple[str, str]]
) -> list[Row]:
    """Each ISO week's meetings (by their start, UTC): how many, their hours, and how many
    were recurring, organised by the person, declined or cancelled.

    Parameters:
        meetings: the last observation of each meeting, by (connection, meeting key).
        cancelled: the meetings cancelled since.

    Returns:
        One row per week, oldest first.
    """
    weeks: dict[str, Row] = {}
    for key, m in meetings.items():
        if m.get("out_of_office"):
            continue
        start, end = datetime.fromisoformat(m["start"]), datetime.fromisoformat(m["end"])
        week = iso_week_of(start)
        row = weeks.setdefault(
            week,
            {
                "week": week,
                "meetings": 0,
                "meeting_hours": 0.0,
                "recurring": 0,
                "organised_by_me": 0,
                "declined": 0,
                "cancelled": 0,
            },
        )
        if key in cancelled:
            row["cancelled"] += 1
            continue
        row["meetings"] += 1
        row["meeting_hours"] = round(row["meeting_hours"] + (end - start).total_seconds() / 3600, 2)
        row["recurring"] += bool(m.get("recurring"))
        row["organised_by_me"] += bool(m.get("organizer_is_self"))
        row["declined"] += m.get("response_status") == "declined"
    return [weeks[w] for w in sorted(weeks)]


def export_document(store: EventStore, actor: Actor) -> dict[str, Any]:
    """The actor's own data, grouped by kind, as one JSON-ready mapping.

    Parameters:
        store: the event store.
        actor: the person exporting their data.

    Returns:
        ``{format, person_id, profile, actions, outcomes, plans, experiments,
        feedback_requests, absences, calendar_connections, meetings_by_week, out_of_office,
        account}`` (docs/portal.md#my-data).

    Raises:
        Forbidden: the actor is the system, not a person.
    """
    if actor.person_id is None:
        raise Forbidden(gettext("Only a person can export their data."))
    events: list[RecordedEvent] = []
    for pattern in STREAMS:
        events.extend(store.read_stream(pattern.format(id=actor.person_id)))
    events.sort(key=lambda e: e.position)
    folded = PersonalExport(str(actor.person_id))
    for e in events:
        if e.tenant_id == actor.tenant_id:
            folded.add(e)
    return folded.as_document()


def as_json(document: dict[str, Any]) -> str:
    """The export as one JSON document, indented.

    Parameters:
        document: :func:`export_document`'s answer.
    """
    return json.dumps(document, indent=2, ensure_ascii=False)


def _flat(row: Row, prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in row.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{key}_")
        elif isinstance(value, list):
            yield f"{prefix}{key}", json.dumps(value, ensure_ascii=False)
        else:
            yield f"{prefix}{key}", value


def as_csv(document: dict[str, Any]) -> str:
    """The export as one CSV table: a row per item, its list in the ``section`` column; one
    column per field (nested fields as ``answer_useful``...; lists as JSON; numbers as
    numbers), with a UTF-8 byte-order mark so that spreadsheets read the accents.

    Parameters:
        document: :func:`export_document`'s answer.

    Returns:
        The CSV text, its first row the header.
    """
    rows = [{"section": name, **dict(_flat(item))} for name in SECTIONS for item in document[name]]
    columns: dict[str, None] = {"section": None}
    for row in rows:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), restval="", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return "\ufeff" + out.getvalue()
