"""The claim that sends a queued weekly digest at most once, in Slack and in Teams alike
(docs/chat.md): the worker locks the digest's row of ``slack_digest_sends`` or
``msteams_digest_sends`` (``SKIP LOCKED``, still ``queued``), sends the message inside the
block and marks the row, so a redelivered or duplicated task finds it sent, or taken, and
sends nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, text

SENDS_TABLES = frozenset({"slack_digest_sends", "msteams_digest_sends"})
"""The tables of queued digests, one per chat platform (names in SQL: never from input)."""


@dataclass
class Claim:
    """A queued digest held by this worker (its row locked until the transaction ends)."""

    db: Connection
    person_id: uuid.UUID
    week: str
    tenant_id: uuid.UUID
    digest: dict[str, Any]
    table: str = "slack_digest_sends"

    def done(self, status: str = "sent") -> None:
        """Mark it ``sent`` (the platform accepted the message) or ``dropped`` (no one to
        send to)."""
        self.db.execute(
            text(
                f"UPDATE {self.table} SET status = :s, "
                "sent_at = CASE WHEN :s = 'sent' THEN now() END "
                "WHERE person_id = :p AND week = :w"
            ),
            {"s": status, "p": self.person_id, "w": self.week},
        )

    def answers_pulse(self) -> bool:
        """Whether the person is a member (not a manager) of a team: the pulse is theirs."""
        return bool(
            self.db.execute(
                text(
                    "SELECT 1 FROM team_members WHERE person_id = :p AND tenant_id = :t "
                    "AND NOT is_manager LIMIT 1"
                ),
                {"p": self.person_id, "t": self.tenant_id},
            ).first()
        )


@contextmanager
def claim(engine: Engine, table: str, person_id: uuid.UUID, week: str) -> Iterator[Claim | None]:
    """The queued digest of ``person_id`` and ``week`` in ``table``, locked for this
    transaction; None when it was sent or dropped already, or another worker holds it.

    Parameters:
        engine: the database.
        table: one of :data:`SENDS_TABLES`.
        person_id, week: the digest.

    Returns:
        A context manager; the caller sends the message inside the block and then
        :meth:`Claim.done`. A failure raises out of the block, the transaction rolls back and
        the row stays ``queued``.
    """
    if table not in SENDS_TABLES:
        raise ValueError(f"not a table of queued digests: {table!r}")
    with engine.begin() as db:
        row = db.execute(
            text(
                f"SELECT s.tenant_id, d.digest FROM {table} s "
                "JOIN weekly_digests d ON d.person_id = s.person_id AND d.week = s.week "
                "WHERE s.person_id = :p AND s.week = :w AND s.status = 'queued' "
                "FOR UPDATE OF s SKIP LOCKED"
            ),
            {"p": person_id, "w": week},
        ).first()
        yield None if row is None else Claim(db, person_id, week, row.tenant_id, row.digest, table)
