"""The weekly digest in Teams: which digests are due, and the claim that sends each at most
once (docs/chat.md, "The weekly digest in Teams").

As in Slack (shared/chat/digests.py, whose rules this follows): the scheduler's
``msteams_digests`` job calls :meth:`TeamsDigests.queue`, which inserts a
``msteams_digest_sends`` row per person and week (the primary key makes it once) for every
person with a linked Teams account and a personal conversation with the bot whose digest is
due at the day and hour they chose (the choice of the portal's Slack page, else Monday 09:00
in the zone they joined with), then sends a ``digest`` task. The worker sends under
:meth:`TeamsDigests.claim` (a row lock, ``SKIP LOCKED``, still ``queued``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text

from shared.chat.digest_claims import Claim
from shared.chat.digest_claims import claim as claim_digest
from shared.chat.digest_message import DigestTime, is_due
from shared.chat.digests import REQUEUE_AFTER, candidate_weeks
from shared.database import as_psycopg
from shared.eventlog import EventStore


def _task(person_id: uuid.UUID, tenant_id: uuid.UUID, week: str) -> dict[str, str]:
    return {"person_id": str(person_id), "tenant_id": str(tenant_id), "week": week}


class TeamsDigests:
    """Due digests and their claims, on ``store``'s database."""

    def __init__(self, store: EventStore):
        self.engine: Engine = store.engine

    def due(self, now: datetime) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
        """``(person, tenant, week)`` of the digests due at ``now`` and never queued."""
        with self.engine.connect() as db:
            rows = db.execute(
                text(
                    "SELECT DISTINCT ON (d.person_id, d.week) d.person_id, d.tenant_id, d.week, "
                    "t.day, t.hour, COALESCE(t.time_zone, p.time_zone) AS zone "
                    "FROM weekly_digests d "
                    "JOIN people p ON p.id = d.person_id AND p.status = 'active' "
                    "JOIN msteams_links l ON l.person_id = d.person_id "
                    "AND l.tenant_id = d.tenant_id "
                    "JOIN msteams_conversations c ON c.aad_tenant_id = l.aad_tenant_id "
                    "AND c.aad_object_id = l.aad_object_id "
                    "LEFT JOIN slack_digest_times t ON t.person_id = d.person_id "
                    "WHERE d.week = ANY(:weeks) AND NOT EXISTS (SELECT 1 FROM "
                    "msteams_digest_sends s WHERE s.person_id = d.person_id AND s.week = d.week) "
                    "ORDER BY d.person_id, d.week"
                ),
                {"weeks": candidate_weeks(now)},
            ).all()
            db.rollback()
        found = []
        for r in rows:
            when = DigestTime(time_zone=r.zone or "UTC")
            if r.day is not None:
                when = DigestTime(r.day, r.hour, r.zone, True)
            if is_due(r.week, when, now):
                found.append((r.person_id, r.tenant_id, r.week))
        return found

    def queue(self, now: datetime, send: Callable[[dict[str, str]], Any]) -> tuple[int, int]:
        """Queue every due digest (a row, then its task) and send again the tasks of rows
        queued more than :data:`REQUEUE_AFTER` ago and still unsent.

        Returns:
            ``(queued, sent again)``.
        """
        queued = 0
        for person_id, tenant_id, week in self.due(now):
            with self.engine.begin() as db:
                inserted = (
                    as_psycopg(db)
                    .execute(
                        "INSERT INTO msteams_digest_sends (person_id, week, tenant_id, queued_at) "
                        "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING person_id",
                        (person_id, week, tenant_id, now),
                    )
                    .fetchone()
                )
            if inserted is not None:
                send(_task(person_id, tenant_id, week))
                queued += 1
        with self.engine.begin() as db:
            stale = (
                as_psycopg(db)
                .execute(
                    "UPDATE msteams_digest_sends SET queued_at = %s WHERE status = 'queued' "
                    "AND queued_at < %s AND week = ANY(%s) RETURNING person_id, tenant_id, week",
                    (now, now - REQUEUE_AFTER, candidate_weeks(now)),
                )
                .fetchall()
            )
        for person_id, tenant_id, week in stale:
            send(_task(person_id, tenant_id, week))
        return queued, len(stale)

    def claim(self, person_id: uuid.UUID, week: str) -> AbstractContextManager[Claim | None]:
        """The queued digest, locked for this transaction; None when it was sent or dropped
        already, or another worker holds it (:func:`shared.chat.digest_claims.claim`)."""
        return claim_digest(self.engine, "msteams_digest_sends", person_id, week)
