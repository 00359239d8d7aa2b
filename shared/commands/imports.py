"""Admin bulk import of journal and calendar events: validated whole, appended in one batch."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from shared.commands.base import Actor
from shared.commands.journal_core import JournalCore, check_moment
from shared.directory import DIRECTORY_EVENTS, Person
from shared.domain.errors import Forbidden, InvalidInput
from shared.eventlog import AppendResult, NewEvent, StreamAppend

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


class ImportCommands(JournalCore):
    """Bulk import (part of :class:`shared.commands.journal.JournalCommands`)."""

    def import_events(
        self, actor: Actor, events: Sequence[Mapping[str, Any]], now: datetime | None = None
    ) -> list[AppendResult]:
        """Admin bulk import of journal and calendar events, validated, idempotent.

        Each item: ``{"person_id", "type", "data", "occurred_at"?}``; the stream is the
        person's. Directory events are refused (they go through the admin endpoints).

        Parameters:
            actor: the admin importing (the idempotency key makes a retry a replay).
            events: at most :data:`IMPORT_LIMIT` items of the :data:`IMPORTABLE` types.
            now: the current time (default: the clock).

        Returns:
            The append results, one per stream written.

        Raises:
            Forbidden: the actor is not an admin.
            InvalidInput: no events, too many, or any item invalid (every error is
                reported, keyed ``events.<i>.<field>``; nothing is written).
        """
        if not actor.is_admin:
            raise Forbidden("only an admin can import events")
        if not events:
            raise InvalidInput("nothing to import", {"events": ["Give at least one event."]})
        if len(events) > IMPORT_LIMIT:
            raise InvalidInput(
                "too many events", {"events": [f"At most {IMPORT_LIMIT} events per request."]}
            )
        now = now or datetime.now(UTC)
        errors: dict[str, list[str]] = {}
        by_stream: dict[str, list[NewEvent]] = defaultdict(list)
        people: set[str] = set()
        for i, item in enumerate(events):
            kind = item.get("type")
            if kind in DIRECTORY_EVENTS or kind not in IMPORTABLE:
                errors[f"events.{i}.type"] = [f"{kind!r} cannot be imported."]
                continue
            data = item.get("data")
            person = data.get("person_id") if isinstance(data, Mapping) else None
            if not isinstance(person, str):
                errors[f"events.{i}.data.person_id"] = ["Missing or not a string."]
                continue
            try:
                moment = check_moment(item.get("occurred_at"), now)
            except InvalidInput as err:
                errors[f"events.{i}.occurred_at"] = err.errors["occurred_at"]
                continue
            people.add(person)
            stream = ("calendar-" if kind.startswith("Meeting") else "journal-") + person
            by_stream[stream].append(NewEvent(kind, data, moment))  # type: ignore[arg-type]
        known = self._people_of(actor, people)
        for i, item in enumerate(events):
            data = item.get("data")
            if isinstance(data, Mapping) and data.get("person_id") in people - known:
                errors[f"events.{i}.data.person_id"] = ["No such person in this organisation."]
        if errors:
            raise InvalidInput(f"{len(errors)} events cannot be imported", errors)
        results = self.store.append_batch(
            actor.tenant_id,
            [StreamAppend(stream, batch) for stream, batch in by_stream.items()],
            actor.context(),
        )
        self.on_appended(frozenset(str(item["type"]) for item in events))
        return results

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
