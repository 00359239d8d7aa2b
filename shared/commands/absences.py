"""Declared absences (leave pauses capital decay, docs/scoring.md): declare, withdraw and
list the caller's own. The events go to the person's journal stream, where the capital
projection reads them (``capital_absences``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from shared.commands.base import Actor
from shared.commands.journal_core import Written, organisation_span
from shared.domain.bounds import Span, span_errors
from shared.domain.errors import Forbidden, InvalidInput, NotFound, Text
from shared.eventlog import EventStore, NewEvent
from shared.eventlog.events import ABSENCE_MAX_DAYS
from shared.eventlog.ids import EVENT_ID_NAMESPACE

Notify = Callable[[frozenset[str]], None]
PLANNED_AHEAD = timedelta(days=366)
"""How far past the organisation's span (now plus a day) a planned absence may reach."""


def absence_errors(starts_on: date, ends_on: date, span: Span) -> dict[str, list[str]]:
    """What is wrong with an absence, per field (empty when it can be declared).

    Parameters:
        starts_on, ends_on: its first and last day.
        span: the days allowed: the organisation's span
            (:func:`shared.domain.bounds.tenant_span`), reaching :data:`PLANNED_AHEAD`
            further ahead (leave is planned).

    Returns:
        Field -> messages: each day within the span, the end on or after the start, at most
        :data:`~shared.eventlog.events.ABSENCE_MAX_DAYS` days later.
    """
    errors: dict[str, list[str]] = {}
    for name, day in (("starts_on", starts_on), ("ends_on", ends_on)):
        if not span.holds_day(day):
            errors[name] = span_errors("date", day, span)
    if ends_on < starts_on:
        errors.setdefault("ends_on", []).append(Text("Must be on or after starts_on."))
    elif (ends_on - starts_on).days > ABSENCE_MAX_DAYS:
        errors.setdefault("ends_on", []).append(
            Text("An absence lasts at most %(max)d days after its start.", max=ABSENCE_MAX_DAYS)
        )
    return errors


def _person(actor: Actor) -> uuid.UUID:
    if actor.person_id is None:
        raise Forbidden(Text("This needs a person, not the system."))
    return actor.person_id


def declare_absence(
    store: EventStore,
    actor: Actor,
    starts_on: date,
    ends_on: date,
    now: datetime | None = None,
    on_appended: Notify | None = None,
) -> Written:
    """Declare an absence of the actor's (past, current or planned).

    Parameters:
        store: the event store.
        actor: the person away.
        starts_on, ends_on: the first and last day away (both included).
        now: the current time (default: the clock).
        on_appended: told the event types written (projection wake-ups).

    Returns:
        The absence's id and the append result.

    Raises:
        Forbidden: the actor is not a person.
        InvalidInput: a day outside the organisation's span (reaching a year further
            ahead: leave is planned), the end before the start or
            more than 366 days after it (``errors`` names each field; nothing is written).
    """
    person = _person(actor)
    with store.engine.connect() as conn:
        span = organisation_span(conn, actor.tenant_id, now or datetime.now(UTC))
    errors = absence_errors(starts_on, ends_on, span.ahead(PLANNED_AHEAD))
    if errors:
        raise InvalidInput(Text("The absence is not valid."), errors)
    absence_id = (
        uuid.uuid5(
            EVENT_ID_NAMESPACE, f"{actor.tenant_id}|{person}|{actor.idempotency_key}|absence"
        )
        if actor.idempotency_key
        else uuid.uuid4()
    )
    data = {"absence_id": str(absence_id), "person_id": str(person),
            "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()}  # fmt: skip
    result = store.append(
        actor.tenant_id, f"journal-{person}", None, [NewEvent("AbsenceDeclared", data)],
        actor.context(),
    )  # fmt: skip
    (on_appended or (lambda types: None))(frozenset({"AbsenceDeclared"}))
    return Written(absence_id, result)


def withdraw_absence(
    store: EventStore, actor: Actor, absence_id: uuid.UUID, on_appended: Notify | None = None
) -> Written:
    """Withdraw one of the actor's declared absences.

    Parameters:
        store: the event store.
        actor: the person who declared it.
        absence_id: the absence.
        on_appended: told the event types written (projection wake-ups).

    Returns:
        The absence's id and the append result.

    Raises:
        NotFound: the actor declared no such absence, or withdrew it already.
    """
    person = _person(actor)
    stream, match = f"journal-{person}", {"absence_id": str(absence_id)}
    if store.find(stream, "AbsenceDeclared", match) is None or store.find(
        stream, "AbsenceWithdrawn", match
    ):
        raise NotFound(Text("You have no such absence."))
    data = {"absence_id": str(absence_id), "person_id": str(person)}
    result = store.append(
        actor.tenant_id, stream, None, [NewEvent("AbsenceWithdrawn", data)], actor.context()
    )
    (on_appended or (lambda types: None))(frozenset({"AbsenceWithdrawn"}))
    return Written(absence_id, result)


def absences_of(conn: Connection, tenant_id: Any, person_id: Any) -> list[dict[str, Any]]:
    """The person's declared absences (the capital read model), earliest first.

    Returns:
        Each ``absence_id``, ``starts_on`` and ``ends_on``.
    """
    rows = conn.execute(
        text(
            "SELECT absence_id, starts_on, ends_on FROM capital_absences WHERE person_id = :p "
            "AND tenant_id = :t ORDER BY starts_on, ends_on, absence_id"
        ),
        {"p": person_id, "t": tenant_id},
    ).mappings()
    return [dict(row) for row in rows]
