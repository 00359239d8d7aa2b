"""Poison events quarantined per tenant: one tenant's bad event never stops another's.

Everything a projection folds is per tenant (shared/projections/partitions.py), so a batch
can be applied tenant by tenant with the same rows as a result. :func:`apply_isolated`
applies a batch in a savepoint; when ``apply`` raises, it applies each tenant's events on
their own, and for a tenant whose events fail it finds the first event that fails (halving
the events in savepoints, the good prefix kept). That event is a **poison event**: it is
recorded in ``projection_quarantine`` (migration 0015) and that tenant's part of the
projection waits there. Every later event of that tenant for that projection is *held back*:
skipped by catch-up and counted (``held_events``), to be re-read from the log and applied in
order by ``compound projections retry NAME --tenant ID`` (shared/projections/release.py).
Every other tenant goes on at full speed.

Catch-up (shared/projections/catchup.py) and a rebuild page by page
(shared/projections/rebuild.py) both apply through :func:`apply_isolated`, so a rebuild
quarantines the same tenant at the same position. Rows belong to a generation of the
projection's tables: a rebuild records its own, which replace the live ones at the switch.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from shared.eventlog import RecordedEvent
from shared.projections.projection import Projection

log = logging.getLogger("compound.projections")


@dataclass(frozen=True)
class Poison:
    """An event ``apply`` could not apply, and what it raised.

    Parameters:
        event: the event.
        error: the exception.
    """

    event: RecordedEvent
    error: Exception

    @property
    def message(self) -> str:
        """The error as stored: its type and text, at most 2,000 characters."""
        return f"{type(self.error).__name__}: {self.error}"[:2000]


@dataclass
class Isolated:
    """What :func:`apply_isolated` did not apply.

    Parameters:
        poisons: the events that failed, one per newly quarantined tenant.
        held: tenant -> events held back (of tenants quarantined before, and each new
            poison event with its tenant's later events of the batch).
    """

    poisons: list[Poison] = field(default_factory=list)
    held: Counter[uuid.UUID] = field(default_factory=Counter)
    skipped: int = 0
    """Events left out because an operator skipped them (:func:`skip`)."""

    @property
    def not_applied(self) -> int:
        """Events held back or skipped."""
        return sum(self.held.values()) + self.skipped


@dataclass(frozen=True)
class Quarantined:
    """One tenant's part of one projection, waiting at a poison event.

    Parameters:
        projection: the projection's name.
        tenant_id: the tenant.
        position: the poison event's position.
        event_id: its id.
        event_type: its type.
        error: what ``apply`` raised (type and text).
        since: when it was quarantined (UTC).
        held_events: events held back, the poison event included.
        retried_at: when a retry last failed (None: never retried).
    """

    projection: str
    tenant_id: uuid.UUID
    position: int
    event_id: uuid.UUID
    event_type: str
    error: str
    since: datetime
    held_events: int
    retried_at: datetime | None


def is_infrastructure(err: BaseException) -> bool:
    """Whether ``err`` is the server's, the connection's (a lease that ran out) or the
    process's, not an event's: such an error is raised again, never quarantined.

    Parameters:
        err: what ``apply`` raised.

    Returns:
        True for an ``OperationalError``, an invalidated connection or a ``MemoryError``.
    """
    if isinstance(err, OperationalError | MemoryError):
        return True
    return bool(getattr(err, "connection_invalidated", False))


def apply_isolated(
    conn: Connection,
    projection: Projection,
    events: Sequence[RecordedEvent],
    tables: Mapping[str, str],
    held: set[uuid.UUID],
    skipped: frozenset[uuid.UUID] = frozenset(),
) -> Isolated:
    """Apply ``events`` but those of the tenants in ``held`` and those ``skipped``; a tenant
    whose events fail is added to ``held`` at its first failing event (its earlier events
    stay applied).

    Parameters:
        conn: the batch's transaction (savepoints are taken in it).
        projection: the projection.
        events: events of its types, in log order.
        tables: base table name -> physical name of the generation written.
        held: the tenants quarantined so far (updated).
        skipped: ids of events an operator skipped (:func:`skipped_events`).

    Returns:
        The new poison events and the events held back per tenant.

    Raises:
        OperationalError: the server or the connection failed (nothing is quarantined).
    """
    outcome = Isolated()
    mine = events
    if skipped:
        mine = [e for e in mine if e.event_id not in skipped]
        outcome.skipped = len(events) - len(mine)
    if held:
        outcome.held.update(e.tenant_id for e in mine if e.tenant_id in held)
        mine = [e for e in mine if e.tenant_id not in held]
    if not mine or _applied(conn, projection, mine, tables) is None:
        return outcome
    for tenant, theirs in _by_tenant(mine).items():
        failed = _apply_prefix(conn, projection, theirs, tables)
        if failed is not None:
            index, error = failed
            outcome.poisons.append(Poison(theirs[index], error))
            outcome.held[tenant] += len(theirs) - index
            held.add(tenant)
    return outcome


def _applied(
    conn: Connection,
    projection: Projection,
    events: Sequence[RecordedEvent],
    tables: Mapping[str, str],
) -> Exception | None:
    """``apply`` in a savepoint: None when it applied, else what it raised (rolled back)."""
    try:
        with conn.begin_nested():
            projection.apply(conn, events, tables)
    except Exception as err:
        if is_infrastructure(err):
            raise
        return err
    return None


def _apply_prefix(
    conn: Connection,
    projection: Projection,
    events: Sequence[RecordedEvent],
    tables: Mapping[str, str],
) -> tuple[int, Exception] | None:
    """Apply the longest prefix of ``events`` that applies, halving what fails; the index of
    the first event that fails on its own and its error, or None when all applied."""
    error = _applied(conn, projection, events, tables)
    if error is None:
        return None
    if len(events) == 1:
        return 0, error
    middle = len(events) // 2
    first = _apply_prefix(conn, projection, events[:middle], tables)
    if first is not None:
        return first
    rest = _apply_prefix(conn, projection, events[middle:], tables)
    return None if rest is None else (middle + rest[0], rest[1])


def _by_tenant(events: Sequence[RecordedEvent]) -> dict[uuid.UUID, list[RecordedEvent]]:
    """Each tenant's events, in log order."""
    tenants: dict[uuid.UUID, list[RecordedEvent]] = {}
    for e in events:
        tenants.setdefault(e.tenant_id, []).append(e)
    return tenants


# -- the table -------------------------------------------------------------------------------


def held_tenants(conn: Connection, name: str, generation: int) -> set[uuid.UUID]:
    """The tenants whose part of a generation of projection ``name`` waits.

    Parameters:
        conn: a connection.
        name: the projection.
        generation: the generation of its tables.

    Returns:
        Their ids.
    """
    return set(
        conn.execute(
            text(
                "SELECT tenant_id FROM projection_quarantine "
                "WHERE projection = :n AND generation = :g"
            ),
            {"n": name, "g": generation},
        ).scalars()
    )


def skipped_events(conn: Connection, name: str) -> frozenset[uuid.UUID]:
    """The events of projection ``name`` an operator skipped (every generation leaves them
    out).

    Parameters:
        conn: a connection.
        name: the projection.

    Returns:
        Their ids.
    """
    return frozenset(
        conn.execute(
            text("SELECT event_id FROM projection_skipped_events WHERE projection = :n"),
            {"n": name},
        ).scalars()
    )


def skip(conn: Connection, name: str, generation: int, tenant_id: uuid.UUID) -> uuid.UUID:
    """Skip the poison event ``tenant_id`` waits at in projection ``name``: record it in
    ``projection_skipped_events`` (with its position, type and error), so that catch-up, a
    retry and every rebuild leave it out alike.

    Parameters:
        conn: the caller's transaction.
        name: the projection.
        generation: its live generation.
        tenant_id: the quarantined tenant.

    Returns:
        The skipped event's id.

    Raises:
        LookupError: the tenant is not quarantined there.
    """
    event_id = conn.execute(
        text(
            "INSERT INTO projection_skipped_events (projection, event_id, tenant_id, position, "
            "event_type, error) SELECT projection, event_id, tenant_id, position, event_type, "
            "error FROM projection_quarantine "
            "WHERE projection = :n AND generation = :g AND tenant_id = :t "
            "ON CONFLICT DO NOTHING RETURNING event_id"
        ),
        {"n": name, "g": generation, "t": tenant_id},
    ).scalar()
    if event_id is None:
        raise LookupError(f"tenant {tenant_id} is not quarantined in {name}")
    log.warning(
        "projection skipped an event: projection=%r tenant_id=%r event_id=%r",
        name,
        str(tenant_id),
        str(event_id),
    )
    return uuid.UUID(str(event_id))


def record(conn: Connection, name: str, generation: int, outcome: Isolated) -> None:
    """Store ``outcome``: a row per new poison event, and the events held back since.

    Parameters:
        conn: the batch's transaction (the rows commit with its checkpoints).
        name: the projection.
        generation: the generation written.
        outcome: what :func:`apply_isolated` did not apply.
    """
    new = {p.event.tenant_id for p in outcome.poisons}
    if outcome.poisons:
        conn.execute(
            text(
                "INSERT INTO projection_quarantine (projection, generation, tenant_id, "
                "position, event_id, event_type, error, held_events) "
                "VALUES (:n, :g, :t, :p, :e, :y, :m, :h)"
            ),
            [
                {
                    "n": name,
                    "g": generation,
                    "t": p.event.tenant_id,
                    "p": p.event.position,
                    "e": p.event.event_id,
                    "y": p.event.type,
                    "m": p.message,
                    "h": outcome.held[p.event.tenant_id],
                }
                for p in outcome.poisons
            ],
        )
    more = [(t, n) for t, n in outcome.held.items() if t not in new]
    if more:
        conn.execute(
            text(
                "UPDATE projection_quarantine SET held_events = held_events + :h "
                "WHERE projection = :n AND generation = :g AND tenant_id = :t"
            ),
            [{"n": name, "g": generation, "t": t, "h": n} for t, n in more],
        )


def warn(name: str, poisons: Sequence[Poison]) -> None:
    """Log one structured warning per newly quarantined tenant (after its commit).

    Parameters:
        name: the projection.
        poisons: the new poison events.
    """
    for p in poisons:
        fields = {
            "projection": name,
            "tenant_id": str(p.event.tenant_id),
            "position": p.event.position,
            "event_id": str(p.event.event_id),
            "event_type": p.event.type,
            "error": p.message,
        }
        log.warning(
            "projection quarantined a tenant: %s",
            " ".join(f"{key}={value!r}" for key, value in fields.items()),
            extra={"quarantine": fields},
        )


def quarantined(conn: Connection, tenant_id: uuid.UUID | None = None) -> list[Quarantined]:
    """The tenants waiting in the live generation of each projection.

    Parameters:
        conn: a connection.
        tenant_id: only this tenant's (a dashboard shows no other's); default, all.

    Returns:
        One :class:`Quarantined` per projection and tenant, by projection then position.
    """
    rows = conn.execute(
        text(
            "SELECT q.* FROM projection_quarantine q JOIN projections p "
            "ON p.name = q.projection AND p.generation = q.generation "
            "WHERE CAST(:t AS uuid) IS NULL OR q.tenant_id = :t "
            "ORDER BY q.projection, q.position"
        ),
        {"t": tenant_id},
    ).all()
    return [
        Quarantined(
            r.projection,
            r.tenant_id,
            int(r.position),
            r.event_id,
            r.event_type,
            r.error,
            r.quarantined_at.astimezone(UTC),
            int(r.held_events),
            r.retried_at,
        )
        for r in rows
    ]


def forget(conn: Connection, name: str, generation: int, *, below: bool = False) -> None:
    """Delete a generation's rows of projection ``name`` (a rebuild starting it afresh), or
    with ``below`` every older generation's (a rebuild's switch).

    Parameters:
        conn: the caller's transaction.
        name: the projection.
        generation: the generation.
        below: delete the generations below ``generation`` instead.
    """
    op = "<" if below else "="
    conn.execute(
        text(f"DELETE FROM projection_quarantine WHERE projection = :n AND generation {op} :g"),
        {"n": name, "g": generation},
    )
