"""The pulse vault: answers no one can link to a person once their period closes.

Per organisation and pulse period there is one random key (:class:`PeriodKey`), kept wrapped
by the master keys in ``pulse_period_keys`` and destroyed when the period closes. Under it:

* the **marker** ``HMAC(key, person, team)`` in ``pulse_answered`` makes a second answer of
  the same person, team and period a conflict (and the same answers again a retry);
* the event's ``responder_hash`` is another HMAC under it (levers count respondents by it);
* a **waiting answer** is sealed with it (AES-GCM) in ``pulse_waiting``, with no person id
  and no time, until it enters the log in a **shuffled batch**: when ``k`` answers of the
  team wait, or when the period closes. The batch's events carry the answered week's Monday
  as ``occurred_at``, never the moment of answering.

Closing a period appends whatever still waits, deletes its markers and destroys its key, in
one transaction: afterwards no key links an answer to a person, and its position and time
are the batch's. docs/privacy.md, "Pulses", says what this guarantees and what it does not.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import random
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.database import as_psycopg
from shared.domain.weeks import week_start
from shared.eventlog import AppendContext, EventStore, NewEvent
from shared.eventlog.crypto import DB

PULSE_CONTEXT = AppendContext(source="pulse")
"""Who appends a batch: nobody in particular."""

_shuffle = random.SystemRandom().shuffle


class PeriodClosed(Exception):
    """The period's key is destroyed: it takes no more answers."""


@dataclass(frozen=True)
class PeriodKey:
    """One organisation's key for one pulse period (unwrapped, in memory only).

    Parameters:
        tenant_id: the organisation.
        period: the period's first ISO week.
        secret: the 256-bit key.
    """

    tenant_id: uuid.UUID
    period: str
    secret: bytes

    def mac(self, *parts: str) -> str:
        """HMAC-SHA256 of ``parts`` under the period key, as hex.

        Parameters:
            parts: the labelled inputs.

        Returns:
            64 hex characters.
        """
        return hmac.new(self.secret, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()

    def _aad(self, team_id: uuid.UUID) -> bytes:
        return self.tenant_id.bytes + team_id.bytes + self.period.encode()

    def seal(self, team_id: uuid.UUID, payload: Mapping[str, Any]) -> bytes:
        """``payload`` encrypted for this period and team.

        Parameters:
            team_id: the team answered for (associated data).
            payload: a JSON-native mapping.

        Returns:
            nonce + ciphertext.
        """
        nonce = os.urandom(12)
        return nonce + AESGCM(self.secret).encrypt(nonce, orjson.dumps(payload), self._aad(team_id))

    def open(self, team_id: uuid.UUID, sealed: bytes) -> dict[str, Any]:
        """The payload :meth:`seal` sealed.

        Raises:
            cryptography.exceptions.InvalidTag: tampered with, or another team's or period's.
        """
        plain = AESGCM(self.secret).decrypt(sealed[:12], sealed[12:], self._aad(team_id))
        return dict(orjson.loads(plain))


class PulseVault:
    """Period keys, markers, waiting answers and their release into the log.

    Parameters:
        store: the event store (its key ring's master keys wrap the period keys).
    """

    def __init__(self, store: EventStore):
        self.store = store

    def period_key(
        self, conn: DB, tenant_id: uuid.UUID, period: str, closes_at: datetime | None = None
    ) -> PeriodKey | None:
        """The period's key; created (closing at ``closes_at``) when missing and asked to.

        Parameters:
            conn: the caller's transaction.
            tenant_id: the organisation.
            period: the period's first ISO week.
            closes_at: when a new key's period closes; None: do not create one.

        Returns:
            The key, or None when there is none and none was to be created.

        Raises:
            PeriodClosed: the period has closed (its key is destroyed).
            MissingMasterKey: no master key to wrap or unwrap it with.
        """
        pg = as_psycopg(conn)
        select = "SELECT wrapped_key FROM pulse_period_keys WHERE tenant_id = %s AND period = %s"
        row = pg.execute(select, (tenant_id, period)).fetchone()
        if row is None and closes_at is not None:
            wrapped = self.store.keyring.master.encrypt(AESGCM.generate_key(256))
            pg.execute(
                "INSERT INTO pulse_period_keys (tenant_id, period, wrapped_key, closes_at) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (tenant_id, period, wrapped, closes_at),
            )
            row = pg.execute(select, (tenant_id, period)).fetchone()
        if row is None:
            return None
        if row[0] is None:
            raise PeriodClosed(period)
        return PeriodKey(tenant_id, period, self.store.keyring.master.decrypt(bytes(row[0])))

    def record(
        self,
        conn: DB,
        key: PeriodKey,
        person_id: uuid.UUID,
        team_id: uuid.UUID,
        week: str,
        answers: Mapping[str, int],
    ) -> str:
        """Mark the person's answer and park it, sealed, until its batch.

        Parameters:
            conn: the caller's transaction.
            key: the period's key.
            person_id: who answers (used only under the period key).
            team_id: the team answered for.
            week: the ISO week answered for.
            answers: item -> score.

        Returns:
            ``"new"``, ``"same"`` (a retry: the same week and answers; nothing written) or
            ``"conflict"`` (this person answered this team's pulse otherwise already).
        """
        marker = key.mac("answered", str(person_id), str(team_id))
        plain = orjson.dumps(dict(answers), option=orjson.OPT_SORT_KEYS).decode()
        answers_mac = key.mac("answers", marker, week, plain)
        pg = as_psycopg(conn)
        inserted = pg.execute(
            "INSERT INTO pulse_answered (tenant_id, period, marker, answers_mac) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
            (key.tenant_id, key.period, marker, answers_mac),
        ).fetchone()
        if inserted is None:
            (earlier,) = pg.execute(
                "SELECT answers_mac FROM pulse_answered "
                "WHERE tenant_id = %s AND period = %s AND marker = %s",
                (key.tenant_id, key.period, marker),
            ).fetchone() or ("",)
            return "same" if hmac.compare_digest(earlier, answers_mac) else "conflict"
        payload = {
            "week": week,
            "responder_hash": key.mac("responder", str(person_id), str(team_id)),
            "answers": dict(answers),
        }
        pg.execute(
            "INSERT INTO pulse_waiting (id, tenant_id, team_id, period, sealed) "
            "VALUES (%s, %s, %s, %s, %s)",
            (uuid.uuid4(), key.tenant_id, team_id, key.period, key.seal(team_id, payload)),
        )
        return "new"

    def answered(self, conn: DB, key: PeriodKey, person_id: uuid.UUID, team_id: uuid.UUID) -> bool:
        """Whether the person answered this team's pulse in the key's period.

        Parameters:
            conn: a connection.
            key: the period's key.
            person_id: the person.
            team_id: the team.

        Returns:
            True when their marker is there.
        """
        marker = key.mac("answered", str(person_id), str(team_id))
        row = (
            as_psycopg(conn)
            .execute(
                "SELECT 1 FROM pulse_answered WHERE tenant_id = %s AND period = %s AND marker = %s",
                (key.tenant_id, key.period, marker),
            )
            .fetchone()
        )
        return row is not None

    def release(self, conn: DB, key: PeriodKey, team_id: uuid.UUID | None, minimum: int) -> int:
        """Append the waiting answers of a team (or every team), shuffled, if enough wait.

        The rows are locked, appended and deleted in the caller's transaction: an answer is
        either waiting or in the log, never both or neither.

        Parameters:
            conn: the caller's transaction.
            key: the period's key.
            team_id: the team; None for every team of the period (at close).
            minimum: release only when at least this many answers of a team wait.

        Returns:
            How many answers entered the log.
        """
        pg = as_psycopg(conn)
        query = "SELECT id, team_id, sealed FROM pulse_waiting WHERE tenant_id = %s AND period = %s"
        params: tuple[Any, ...] = (key.tenant_id, key.period)
        if team_id is not None:
            query, params = query + " AND team_id = %s", (*params, team_id)
        rows = pg.execute(query + " ORDER BY id FOR UPDATE", params).fetchall()
        by_team: dict[uuid.UUID, list[tuple[uuid.UUID, bytes]]] = defaultdict(list)
        for row_id, team, sealed in rows:
            by_team[team].append((row_id, bytes(sealed)))
        released = 0
        for team, waiting in sorted(by_team.items()):
            if len(waiting) < minimum:
                continue
            self._append_batch(conn, key, team, [key.open(team, s) for _, s in waiting])
            pg.execute("DELETE FROM pulse_waiting WHERE id = ANY(%s)", ([i for i, _ in waiting],))
            released += len(waiting)
        return released

    def _append_batch(
        self, conn: DB, key: PeriodKey, team_id: uuid.UUID, answers: list[dict[str, Any]]
    ) -> None:
        """Append one team's answers, shuffled, one stream per week answered for."""
        by_week: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for answer in answers:
            by_week[answer["week"]].append(answer)
        for week, batch in sorted(by_week.items()):
            _shuffle(batch)
            monday = datetime.combine(week_start(week), time(0), UTC)
            events = [
                NewEvent("PulseResponseSubmitted", {"team_id": str(team_id), **a}, monday)
                for a in batch
            ]
            self.store.append_in(
                conn, key.tenant_id, f"pulse-{team_id}-{week}", None, events, PULSE_CONTEXT
            )

    def close(self, conn: DB, tenant_id: uuid.UUID, period: str) -> int:
        """Close a period: release every waiting answer, delete the markers, destroy the key.

        Parameters:
            conn: the caller's transaction (commit it: all of this happens or none).
            tenant_id: the organisation.
            period: the period's first ISO week.

        Returns:
            How many answers entered the log (0 when the period is closed already).
        """
        pg = as_psycopg(conn)
        row = pg.execute(
            "SELECT wrapped_key FROM pulse_period_keys WHERE tenant_id = %s AND period = %s "
            "FOR UPDATE",
            (tenant_id, period),
        ).fetchone()
        if row is None or row[0] is None:
            return 0
        key = PeriodKey(tenant_id, period, self.store.keyring.master.decrypt(bytes(row[0])))
        released = self.release(conn, key, None, 1)
        pg.execute(
            "DELETE FROM pulse_answered WHERE tenant_id = %s AND period = %s", (tenant_id, period)
        )
        pg.execute(
            "UPDATE pulse_period_keys SET wrapped_key = NULL, closed_at = now() "
            "WHERE tenant_id = %s AND period = %s",
            (tenant_id, period),
        )
        return released

    def close_due(self, now: datetime | None = None) -> tuple[int, int]:
        """Close every period whose time has come, each in a transaction of its own.

        Parameters:
            now: the current time (default: the clock).

        Returns:
            How many periods closed and how many answers entered the log.
        """
        now = now or datetime.now(UTC)
        with self.store.engine.connect() as conn:
            due = (
                as_psycopg(conn)
                .execute(
                    "SELECT tenant_id, period FROM pulse_period_keys "
                    "WHERE closed_at IS NULL AND closes_at <= %s ORDER BY closes_at",
                    (now,),
                )
                .fetchall()
            )
        released = 0
        for tenant_id, period in due:
            with self.store.engine.begin() as conn:
                released += self.close(conn, tenant_id, period)
        return len(due), released
