"""Admin bulk import of journal and calendar events: validated whole, appended in one batch."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import select

from shared.commands.base import Actor
from shared.commands.import_references import ImportedItem, reference_errors
from shared.commands.journal_core import JournalCore
from shared.commands.volume import check_daily_volume
from shared.directory import DIRECTORY_EVENTS, Person
from shared.domain.bounds import Span, span_errors
from shared.domain.errors import Forbidden, InvalidInput, Text, plural_text
from shared.eventlog import CATALOGUE, AppendResult, EventValidationError, NewEvent, StreamAppend
from shared.eventlog.iso_week_field import IsoWeek
from shared.eventlog.time_fields import Day, Timestamp

IMPORT_LIMIT = 50_000
IMPORTABLE = frozenset(
    {
        "MicroActionLogged",
        "OutcomeRecorded",
        "WeeklyPlanSet",
        "ExperimentStarted",
        "ExperimentEnded",
        "FeedbackRequested",
        "FeedbackGiven",
        "MeetingObserved",
        "MeetingCancelled",
    }
)
FURTHER_AHEAD = {
    ("ExperimentStarted", "starts_on"): timedelta(days=365),  # as the command allows
    ("FeedbackRequested", "expires_at"): timedelta(days=60),  # the longest link the API gives
}
"""Data fields that may lie further ahead than now plus a day (meetings: the sync window)."""
PEOPLE = ("person_id", "colleague_id", "confirmer_id", "counterpart_id")
"""Data fields naming a person: each must be a person of the importing organisation."""
UNCLAIMABLE = {("FeedbackGiven", "confirmed")}
"""Proof only its confirmer gives (model 2 weighs it most): an import cannot set it true."""


class ImportCommands(JournalCore):
    """Bulk import (part of :class:`shared.commands.journal.JournalCommands`)."""

    def import_events(
        self, actor: Actor, events: Sequence[Mapping[str, Any]], now: datetime | None = None
    ) -> list[AppendResult]:
        """Admin bulk import of journal and calendar events, validated, idempotent.

        Each item: ``{"person_id", "type", "data", "occurred_at"?}``; the stream is the
        person's. Directory events are refused (they go through the admin endpoints). Every
        time, date and week, ``occurred_at`` included, must lie in the organisation's span
        (its creation minus two years to now plus a day; meetings as far ahead as the
        calendar sync reads, :attr:`meetings_ahead`). Every id an item names is its
        person's own: a request, experiment or action it refers to was created in the same
        stream (in the log or the import), one it creates in no other stream
        (:mod:`shared.commands.import_references`).

        Parameters:
            actor: the admin importing (the idempotency key makes a retry a replay).
            events: at most :data:`IMPORT_LIMIT` items of the :data:`IMPORTABLE` types.
            now: the current time (default: the clock).

        Returns:
            The append results, one per stream written.

        Raises:
            Forbidden: the actor is not an admin.
            InvalidInput: no events, too many, or any item invalid (every error is
                reported, keyed ``events.<i>.<field>`` or ``events.<i>.data.<field>``;
                nothing is written).
        """
        if not actor.is_admin:
            raise Forbidden(Text("Only an admin can import events."))
        if not events:
            raise InvalidInput(
                Text("There is nothing to import."), {"events": [Text("Give at least one event.")]}
            )
        if len(events) > IMPORT_LIMIT:
            limit = Text("At most %(max)d events per request.", max=IMPORT_LIMIT)
            raise InvalidInput(limit, {"events": [limit]})
        now = now or datetime.now(UTC)
        span = self._span(actor, now)
        errors: dict[str, list[str]] = {}
        by_stream: dict[str, list[NewEvent]] = defaultdict(list)
        valid: list[ImportedItem] = []
        for i, item in enumerate(events):
            found = self._import_item(item, span, now, errors, f"events.{i}")
            if found is not None:
                event, checked = found
                by_stream[checked.stream].append(event)
                valid.append(checked)
        named = {(item.at, f): item.data[f] for item in valid for f in PEOPLE if item.data.get(f)}
        known = self._people_of(actor, set(named.values()))
        for (at, name), person in named.items():
            if person not in known:
                errors[f"{at}.data.{name}"] = [Text("No such person in this organisation.")]
        with self.store.engine.connect() as conn:
            errors.update(reference_errors(conn, valid))
        if errors:
            raise InvalidInput(
                plural_text(
                    "%(num)d event cannot be imported.",
                    "%(num)d events cannot be imported.",
                    len({at.split(".")[:2][-1] for at in errors}),
                ),
                errors,
            )
        logged = [(e.data["person_id"], e.occurred_at or now) for batch in by_stream.values()
                  for e in batch if e.type == "MicroActionLogged"]  # fmt: skip
        check_daily_volume(self.store, actor.tenant_id, actor.context(), logged, "events")
        results = self.store.append_batch(
            actor.tenant_id,
            [StreamAppend(stream, batch) for stream, batch in by_stream.items()],
            actor.context(),
        )
        self.on_appended(frozenset(str(item["type"]) for item in events))
        return results

    def _import_item(
        self,
        item: Mapping[str, Any],
        span: Span,
        now: datetime,
        errors: dict[str, list[str]],
        at: str,
    ) -> tuple[NewEvent, ImportedItem] | None:
        """One item checked: its event, and its stream with the normalised payload;
        None (and ``errors`` filled, keyed from ``at``) when it is invalid."""
        before = len(errors)
        kind = item.get("type")
        if kind in DIRECTORY_EVENTS or kind not in IMPORTABLE:
            errors[f"{at}.type"] = [Text("%(type)s cannot be imported.", type=repr(kind))]
            return None
        data = item.get("data")
        person = data.get("person_id") if isinstance(data, Mapping) else None
        if not isinstance(person, str):
            errors[f"{at}.data.person_id"] = [Text("Give the person's id as a string.")]
            return None
        meeting = kind.startswith("Meeting")
        moment = item.get("occurred_at") or now
        wrong = span_errors("time", moment, span.ahead(self.meetings_ahead) if meeting else span)
        if wrong:
            errors[f"{at}.occurred_at"] = wrong
        try:
            normal = self.store.catalogue.normalise(kind, data)[1]  # type: ignore[arg-type]
        except EventValidationError as err:
            errors.update(_keyed(f"{at}.data", err.errors))
            return None
        for name in (f for k, f in UNCLAIMABLE if k == kind and normal.get(f) is True):
            errors[f"{at}.data.{name}"] = [
                Text("Only the colleague named confirms: an import cannot.")
            ]
        for name, what, parse in _time_fields(kind):
            if normal.get(name) is None:
                continue
            extra = self.meetings_ahead if meeting else FURTHER_AHEAD.get((kind, name))
            wrong = span_errors(what, parse(normal[name]), span.ahead(extra) if extra else span)
            if wrong:
                errors[f"{at}.data.{name}"] = wrong
        if len(errors) > before:
            return None
        # The canonical id (the stream of the person's own entries), whatever case was sent.
        stream = ("calendar-" if meeting else "journal-") + str(normal["person_id"])
        event = NewEvent(kind, data, moment)  # type: ignore[arg-type]
        return event, ImportedItem(at, stream, kind, normal)

    def _people_of(self, actor: Actor, people: set[str]) -> set[str]:
        ids = []
        for p in people:
            try:
                ids.append(uuid.UUID(p))
            except ValueError:
                continue
        with self.store.engine.connect() as conn:
            found = conn.execute(
                select(Person.id).where(Person.id.in_(ids), Person.tenant_id == actor.tenant_id)
            ).scalars()
            return {str(p) for p in found}


@cache
def _time_fields(kind: str) -> tuple[tuple[str, str, Any], ...]:
    """The time, date and week fields of an event type: name, kind in words, parser."""
    found: list[tuple[str, str, Any]] = []
    for name, field in CATALOGUE.current(kind).schema.fields.items():
        if isinstance(field, Timestamp):
            found.append((name, "time", datetime.fromisoformat))
        elif isinstance(field, Day):
            found.append((name, "date", date.fromisoformat))
        elif isinstance(field, IsoWeek):
            found.append((name, "week", str))
    return tuple(found)


def _keyed(prefix: str, messages: Mapping[str, Any]) -> dict[str, list[str]]:
    """The catalogue's messages per field, keyed ``prefix.field`` (nested ones flattened)."""
    out: dict[str, list[str]] = {}
    for key, value in messages.items():
        name = prefix if key == "_schema" else f"{prefix}.{key}"
        if isinstance(value, Mapping):
            out.update(_keyed(name, value))
        elif isinstance(value, list) and all(isinstance(m, str) for m in value):
            out[name] = list(value)
        else:
            out[name] = [str(value)]
    return out
