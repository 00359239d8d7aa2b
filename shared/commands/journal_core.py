"""What every journal command shares: the handler's state, the moment check, the append.

The journal handlers (own entries, feedback, pulse, import) each live in a module of their
own; :class:`JournalCore` is the base they share, and
:class:`shared.commands.journal.JournalCommands` puts them together.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from shared.calendar.settings import CalendarSettings
from shared.commands.base import Actor
from shared.directory import Organization
from shared.domain import bounds
from shared.domain.bounds import Span, meeting_horizon, span_errors, tenant_span
from shared.domain.errors import N_, Forbidden, InvalidInput, Text
from shared.eventlog import AppendResult, EventStore, NewEvent, RecordedEvent
from shared.eventlog.ids import EVENT_ID_NAMESPACE

MAX_PAST = bounds.MAX_PAST
MAX_FUTURE = bounds.MAX_AHEAD


@dataclass(frozen=True)
class Written:
    """What a command wrote: the id of the thing it created and the log's answer.

    Parameters:
        id: the entity the command created or changed (action, outcome, plan ...).
        result: the event store's answer to the append.
    """

    id: uuid.UUID
    result: AppendResult

    @property
    def event_id(self) -> uuid.UUID:
        """The id of the (first) event written."""
        return self.result.event_ids[0]

    @property
    def position(self) -> int:
        """The log position of the last event written (wait for it with ``min_position``)."""
        return self.result.positions[-1]


def check_moment(moment: datetime | None, now: datetime, field: str = "occurred_at") -> datetime:
    """The moment an entry happened, checked.

    Parameters:
        moment: the time the caller gave, or None for "now".
        now: the current time.
        field: the request field named in the error.

    Returns:
        ``moment``, or ``now`` when it is None.

    Raises:
        InvalidInput: the moment has no time zone, is more than two years back or more
            than a day ahead.
    """
    if moment is None:
        return now
    if moment.tzinfo is None:
        raise InvalidInput(
            Text("A time needs a time zone."),
            {field: [Text("Include a time zone offset, e.g. 2026-11-25T09:30:00Z.")]},
        )
    if moment < now - MAX_PAST or moment > now + MAX_FUTURE:
        raise InvalidInput(
            Text("That time is out of range."),
            {field: [Text("Must be within the last two years and not in the future.")]},
        )
    return moment


def organisation_span(conn: Connection, tenant_id: uuid.UUID, now: datetime) -> Span:
    """The times an organisation may write (:func:`shared.domain.bounds.tenant_span`).

    Parameters:
        conn: a database connection (one primary-key read of ``organizations``).
        tenant_id: the organisation.
        now: the current time.

    Returns:
        From its creation minus two years to now plus a day.
    """
    created = conn.execute(
        select(Organization.created_at).where(Organization.id == tenant_id)
    ).scalar()
    return tenant_span(created, now)


_OUT_OF_RANGE = {
    "time": N_("That time is out of range."),
    "date": N_("That date is out of range."),
    "week": N_("That week is out of range."),
}


def check_in_span(field: str, name: str, value: Any, span: Span) -> None:
    """Refuse a time, date or week outside an organisation's span.

    Parameters:
        field: the request field named in the error.
        name: what the value is, in the message (``time``, ``date``, ``week``).
        value: an aware datetime, a date or an ISO week label.
        span: the span it must lie in.

    Raises:
        InvalidInput: the value lies outside the span; ``errors`` names ``field``.
    """
    errors = span_errors(name, value, span)
    if errors:
        raise InvalidInput(Text(_OUT_OF_RANGE.get(name, _OUT_OF_RANGE["time"])), {field: errors})


class JournalCore:
    """The state and helpers of the journal command handlers.

    Parameters:
        store: the event store.
        secret_key: the deployment's secret key; the pulse no longer uses it (its keys are
            per organisation and period: shared/pulses).
        on_appended: called after each commit with the event types written (the gateway
            sends projection wake-ups from it); it must not raise.
        meetings_ahead: how far after now an imported meeting may lie (the calendar sync's
            window ahead, :func:`shared.domain.bounds.meeting_horizon`).
    """

    def __init__(
        self,
        store: EventStore,
        secret_key: str,
        on_appended: Callable[[frozenset[str]], None] | None = None,
        meetings_ahead: timedelta | None = None,
    ):
        self.store = store
        self.secret_key = secret_key
        self.on_appended = on_appended or (lambda types: None)
        if meetings_ahead is None:  # the calendar sync's default window
            meetings_ahead = meeting_horizon(CalendarSettings.weeks_ahead)
        self.meetings_ahead = meetings_ahead

    def _span(self, actor: Actor, now: datetime) -> Span:
        """The actor's organisation's span (see :func:`organisation_span`)."""
        with self.store.engine.connect() as conn:
            return organisation_span(conn, actor.tenant_id, now)

    @staticmethod
    def _me(actor: Actor) -> uuid.UUID:
        if actor.person_id is None:
            raise Forbidden(Text("This needs a person, not the system."))
        return actor.person_id

    @staticmethod
    def _new_id(actor: Actor, purpose: str) -> uuid.UUID:
        """A new entity id; the same one again for a retried request (same idempotency key)."""
        if actor.idempotency_key is None:
            return uuid.uuid4()
        return uuid.uuid5(
            EVENT_ID_NAMESPACE,
            f"{actor.tenant_id}|{actor.person_id}|{actor.idempotency_key}|{purpose}",
        )

    def _check_my_action(self, actor: Actor, action_id: uuid.UUID | None) -> None:
        """Raises InvalidInput unless ``action_id`` is None or one of the actor's actions."""
        if (
            action_id is not None
            and self._find(actor, "MicroActionLogged", "action_id", action_id) is None
        ):
            raise InvalidInput(
                Text("There is no such action."),
                {"action_id": [Text("You logged no action with this id.")]},
            )

    def _find(
        self, actor: Actor, event_type: str, field: str, value: uuid.UUID
    ) -> RecordedEvent | None:
        return self.store.find(f"journal-{self._me(actor)}", event_type, {field: str(value)})

    def _journal(
        self, actor: Actor, entity: uuid.UUID, event: NewEvent, key: str | None = None
    ) -> Written:
        # Journal events touch no inline read model: the single round-trip append will do.
        result = self.store.append(
            actor.tenant_id, f"journal-{self._me(actor)}", None, [event], actor.context(key)
        )
        self.on_appended(frozenset({event.type}))
        return Written(entity, result)
