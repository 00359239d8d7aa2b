"""The weekly digest in Slack: when each person wants it, which digests are due, and the claim
that sends each one at most once (docs/chat.md, "The weekly digest in Slack").

The scheduler (workers/scheduler.py, ``slack_digests``) calls :meth:`SlackDigests.queue`: for
every linked person whose digest of the last or the week before is due (their day and hour in
their zone), it inserts a ``slack_digest_sends`` row (the primary key ``(person, week)`` makes
it once) and sends a ``digest`` task to the Slack worker. The worker sends the direct message
under :meth:`SlackDigests.claim`: a row lock (``SKIP LOCKED``) and ``status = 'queued'``, so a
redelivered or duplicated task finds the row sent, or taken, and sends nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text

from shared.chat.digest_claims import Claim
from shared.chat.digest_claims import claim as claim_digest
from shared.chat.digest_message import DigestTime, is_due
from shared.commands.working_hours import working_hours_of
from shared.database import as_psycopg
from shared.domain.errors import InvalidInput
from shared.domain.weeks import iso_week_of
from shared.domain.working_hours import DAYS
from shared.eventlog import AppendContext, EventStore, NewEvent
from shared.eventlog.events_chat import link_stream
from shared.i18n import gettext

REQUEUE_AFTER = timedelta(minutes=30)
"""A digest queued this long ago and still not sent is sent to the queue again (its task was
lost, or failed past its retries); the claim keeps it from going out twice."""


@dataclass(frozen=True)
class DueDigest:
    """A digest to send: whose, of which week, through which workspace."""

    person_id: uuid.UUID
    tenant_id: uuid.UUID
    week: str
    team_id: str

    def task(self) -> dict[str, str]:
        """The ``digest`` task's payload (:mod:`shared.chat.jobs`)."""
        return {
            "team_id": self.team_id,
            "person_id": str(self.person_id),
            "tenant_id": str(self.tenant_id),
            "week": self.week,
        }


def candidate_weeks(now: datetime) -> list[str]:
    """The digest weeks that may be due at ``now``: the ISO week that ended last (UTC) and
    the one before (a zone far west of UTC reaches its chosen day of the week after later)."""
    return [iso_week_of(now - timedelta(weeks=2)), iso_week_of(now - timedelta(weeks=1))]


class SlackDigests:
    """Digest times, due digests and their claims, on ``store``'s database."""

    def __init__(self, store: EventStore):
        self.store = store
        self.engine: Engine = store.engine

    # -- the person's choice -------------------------------------------------------------------

    def time_of(self, person_id: uuid.UUID, tenant_id: uuid.UUID) -> DigestTime:
        """The person's choice, or Monday 09:00 in the zone they joined with."""
        with self.engine.connect() as db:
            row = db.execute(
                text(
                    "SELECT t.day, t.hour, t.time_zone, p.time_zone AS joined FROM people p "
                    "LEFT JOIN slack_digest_times t ON t.person_id = p.id "
                    "WHERE p.id = :p AND p.tenant_id = :t"
                ),
                {"p": person_id, "t": tenant_id},
            ).first()
            db.rollback()
        if row is None or row.day is None:
            return DigestTime(time_zone=(row.joined if row else None) or "UTC")
        return DigestTime(row.day, row.hour, row.time_zone, True)

    def set_time(
        self,
        tenant_id: uuid.UUID,
        person_id: uuid.UUID,
        day: str,
        hour: str,
        context: AppendContext,
    ) -> DigestTime:
        """Choose when the digest comes, in the zone of the person's working hours; appends
        ``SlackDigestTimeSet`` in the transaction that keeps the choice.

        Parameters:
            tenant_id, person_id: whose choice.
            day: ``mon`` ... ``sun``.
            hour: ``0`` ... ``23`` (as typed in a form).
            context: the person's append context.

        Raises:
            InvalidInput: a day or an hour that is not one; nothing is written.
        """
        errors: dict[str, list[str]] = {}
        if day not in DAYS:
            errors["day"] = [gettext("Choose a day of the week.")]
        if not (hour.isdigit() and len(hour) <= 2 and 0 <= int(hour) <= 23):
            errors["hour"] = [gettext("Choose an hour from 0 to 23.")]
        if errors:
            raise InvalidInput(gettext("The digest time is not valid."), errors=errors)
        with self.engine.begin() as db:
            zone = working_hours_of(self.store, db, tenant_id, person_id).time_zone
            as_psycopg(db).execute(
                "INSERT INTO slack_digest_times (person_id, tenant_id, day, hour, time_zone) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (person_id) DO UPDATE SET "
                "day = excluded.day, hour = excluded.hour, time_zone = excluded.time_zone",
                (person_id, tenant_id, DAYS.index(day), int(hour), zone),
            )
            data = {"person_id": person_id, "day": day, "hour": int(hour), "time_zone": zone}
            event = NewEvent("SlackDigestTimeSet", data)
            self.store.append_in(db, tenant_id, link_stream(person_id), None, [event], context)
        return DigestTime(DAYS.index(day), int(hour), zone, True)

    # -- the scheduler -------------------------------------------------------------------------

    def due(self, now: datetime) -> list[DueDigest]:
        """The digests due at ``now`` and never queued: an active, linked person's digest of
        a candidate week, built, whose moment came less than a week ago."""
        with self.engine.connect() as db:
            rows = db.execute(
                text(
                    "SELECT DISTINCT ON (d.person_id, d.week) d.person_id, d.tenant_id, d.week, "
                    "l.team_id, t.day, t.hour, COALESCE(t.time_zone, p.time_zone) AS zone "
                    "FROM weekly_digests d "
                    "JOIN people p ON p.id = d.person_id AND p.status = 'active' "
                    "JOIN slack_links l ON l.person_id = d.person_id AND l.tenant_id = d.tenant_id "
                    "LEFT JOIN slack_digest_times t ON t.person_id = d.person_id "
                    "WHERE d.week = ANY(:weeks) AND NOT EXISTS (SELECT 1 FROM slack_digest_sends s "
                    "WHERE s.person_id = d.person_id AND s.week = d.week) "
                    "ORDER BY d.person_id, d.week, l.team_id"
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
                found.append(DueDigest(r.person_id, r.tenant_id, r.week, r.team_id))
        return found

    def queue(self, now: datetime, send: Callable[[dict[str, str]], Any]) -> tuple[int, int]:
        """Queue every due digest (a row, then its task) and send again the tasks of rows
        queued more than :data:`REQUEUE_AFTER` ago and still unsent.

        Parameters:
            now: the current time.
            send: sends one ``digest`` task (:func:`shared.chat.jobs.send_task`).

        Returns:
            ``(queued, sent again)``.

        Raises:
            Whatever ``send`` raises (Redis away): the rows stay ``queued`` and are sent
            again at a later run.
        """
        queued = 0
        for due in self.due(now):
            with self.engine.begin() as db:
                inserted = (
                    as_psycopg(db)
                    .execute(
                        "INSERT INTO slack_digest_sends (person_id, week, tenant_id, team_id, "
                        "queued_at) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING "
                        "RETURNING person_id",
                        (due.person_id, due.week, due.tenant_id, due.team_id, now),
                    )
                    .fetchone()
                )
            if inserted is not None:
                send(due.task())
                queued += 1
        return queued, self._requeue(now, send)

    def _requeue(self, now: datetime, send: Callable[[dict[str, str]], Any]) -> int:
        with self.engine.begin() as db:
            stale = (
                as_psycopg(db)
                .execute(
                    "UPDATE slack_digest_sends SET queued_at = %s WHERE status = 'queued' "
                    "AND queued_at < %s AND week = ANY(%s) "
                    "AND team_id IN (SELECT team_id FROM slack_installations) "
                    "RETURNING person_id, tenant_id, week, team_id",
                    (now, now - REQUEUE_AFTER, candidate_weeks(now)),
                )
                .fetchall()
            )
        for person_id, tenant_id, week, team_id in stale:
            send(DueDigest(person_id, tenant_id, week, team_id).task())
        return len(stale)

    # -- the worker ----------------------------------------------------------------------------

    def claim(self, person_id: uuid.UUID, week: str) -> AbstractContextManager[Claim | None]:
        """The queued digest of ``person_id`` and ``week``, locked for this transaction; None
        when it was sent or dropped already, or another worker holds it
        (:func:`shared.chat.digest_claims.claim`)."""
        return claim_digest(self.engine, "slack_digest_sends", person_id, week)
