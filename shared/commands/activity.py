"""What people do that the audit shows and no command records (issue 22): a portal sign-in
and a download of an export, each one event in the person's ``activity-<id>`` stream
(``shared/eventlog/events_activity.py``): who, when and how, nothing personal."""

from __future__ import annotations

import dataclasses
import uuid

from shared.commands.base import Actor
from shared.eventlog import AppendResult, EventStore, NewEvent


def _record(store: EventStore, actor: Actor, event: NewEvent) -> AppendResult:
    # Never the request's idempotency key: the same key on two downloads is two downloads.
    actor = dataclasses.replace(actor, idempotency_key=None)
    assert actor.person_id is not None, "a person signs in or exports"
    return store.append(
        actor.tenant_id, f"activity-{actor.person_id}", None, [event], actor.context()
    )


def signed_in(store: EventStore, actor: Actor, method: str) -> AppendResult:
    """Record that ``actor`` signed in to the portal.

    Parameters:
        store: the event store.
        actor: the person now signed in.
        method: how (``shared.eventlog.events_activity.SIGN_IN_METHODS``).

    Returns:
        The store's answer.
    """
    data = {"person_id": str(actor.person_id), "method": method}
    return _record(store, actor, NewEvent("SignedIn", data))


def exported(
    store: EventStore,
    actor: Actor,
    export: str,
    fmt: str,
    team_id: uuid.UUID | None = None,
    lever: str | None = None,
) -> AppendResult:
    """Record that ``actor`` downloaded an export.

    Parameters:
        store: the event store.
        actor: who downloaded it.
        export: what (``shared.eventlog.events_activity.EXPORTS``).
        fmt: ``csv`` or ``json``.
        team_id: the team whose figures it holds, if any.
        lever: the lever whose figures it holds, if one.

    Returns:
        The store's answer.
    """
    data = {
        "person_id": str(actor.person_id),
        "export": export,
        "format": fmt,
        "team_id": str(team_id) if team_id else None,
        "lever": lever,
    }
    return _record(store, actor, NewEvent("DataExported", data))
