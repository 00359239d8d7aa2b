"""The feedback loop read model: each feedback request and its answer, and per person the
requests, answers and rates.

Its rows hold ids, times and flags only (a question or comment stays encrypted in the log),
so ``PersonErased`` has nothing to remove. A request's row is filled from both sides (the
request, the answer), whichever is appended first; the first of each side wins by position,
kept with it so a later batch can compare; each person's numbers are counted from the rows:
every batching gives the same rows.

:class:`FeedbackState` holds the effect of each event, once: catch-up
(:meth:`FeedbackLoopProjection.apply`) folds a batch into a fresh state, upserts its rows and
recounts their owners in SQL; a rebuild (:class:`FeedbackLoopFold`) folds the whole log into
one state, counts in memory (:meth:`FeedbackState.people`) and COPYs each table once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Connection

from shared.copy_format import CopyBuffer, copy_lines, encode_row
from shared.database import as_psycopg
from shared.eventlog import RecordedEvent
from shared.gc_pause import collector_paused
from shared.projections.journal.common import MODEL_VERSION, StateFold
from shared.projections.runtime import LIST_SQL, Projection, joined

ASKED_COLUMNS = ("tenant_id", "person_id", "action_id", "asked_at", "expires_at", "asked_position")
"""The columns a request's row takes from its ``FeedbackRequested`` (and the owner's)."""
ANSWER_COLUMNS = ("answered_at", "useful", "answer_position")
"""The columns it takes from its first ``FeedbackGiven``."""


@dataclass(slots=True)
class FeedbackRequest:
    """A request's first ``FeedbackRequested``."""

    tenant: str
    person: str
    action_id: str | None
    asked_at: datetime
    expires_at: datetime
    position: int


@dataclass(slots=True)
class FeedbackAnswer:
    """A request's first ``FeedbackGiven`` (its owner, when the request is not known yet)."""

    tenant: str
    person: str
    answered_at: datetime
    useful: bool | None
    position: int


@dataclass(slots=True)
class PersonFeedback:
    """One person's numbers: requests known, those answered, the answers found useful."""

    requests: int = 0
    answers: int = 0
    useful: int = 0


@dataclass(slots=True)
class FeedbackState:
    """Feedback events folded in memory: one batch's or the whole log's.

    Attributes:
        asked: request id -> its first request.
        answered: request id -> its first answer.
    """

    asked: dict[str, FeedbackRequest] = field(default_factory=dict)
    answered: dict[str, FeedbackAnswer] = field(default_factory=dict)

    def add(self, events: Iterable[RecordedEvent]) -> None:
        """Fold ``events`` (in position order) in: each event's effect on the read model.

        Parameters:
            events: ``FeedbackRequested`` and ``FeedbackGiven`` events.
        """
        asked, answered = self.asked, self.answered
        for e in events:  # in position order: the first of each side is kept
            data = e.data
            request = data["request_id"]
            if e.type == "FeedbackRequested":
                if request not in asked:
                    asked[request] = FeedbackRequest(
                        e.tenant_id_text, data["person_id"], data["action_id"], e.occurred_at,
                        datetime.fromisoformat(data["expires_at"]), e.position,
                    )  # fmt: skip
            elif request not in answered:
                answered[request] = FeedbackAnswer(
                    e.tenant_id_text, data["person_id"], e.occurred_at, data["useful"], e.position
                )

    def requests(self) -> list[str]:
        """The ids of every request with a side in this state."""
        return list(self.asked.keys() | self.answered.keys())

    def owner(self, request: str) -> tuple[str, str]:
        """(tenant, person) of a request's row: its request's, else its answer's."""
        side = self.asked.get(request) or self.answered[request]
        return side.tenant, side.person

    def people(self) -> dict[tuple[str, str], PersonFeedback]:
        """Each owner's numbers over the rows of this state: an answer counts once its
        request is known (what :func:`recount_owners` counts in SQL)."""
        people: dict[tuple[str, str], PersonFeedback] = {}
        for request, ask in self.asked.items():
            numbers = people.get((ask.tenant, ask.person))
            if numbers is None:
                numbers = people[(ask.tenant, ask.person)] = PersonFeedback()
            numbers.requests += 1
            answer = self.answered.get(request)
            if answer is not None:
                numbers.answers += 1
                numbers.useful += answer.useful is True
        return people

    def request_rows(self) -> Iterator[tuple[Any, ...]]:
        """The ``feedback_requests`` rows: id, :data:`ASKED_COLUMNS`,
        :data:`ANSWER_COLUMNS` (without the model version)."""
        for request in self.requests():
            ask, answer = self.asked.get(request), self.answered.get(request)
            asked: tuple[Any, ...] = (
                (None, None, None, None)
                if ask is None
                else (ask.action_id, ask.asked_at, ask.expires_at, ask.position)
            )
            answered: tuple[Any, ...] = (
                (None, None, None)
                if answer is None
                else (answer.answered_at, answer.useful, answer.position)
            )
            yield (request, *self.owner(request), *asked, *answered)


class FeedbackLoopProjection(Projection):
    """Each feedback request and its answer, and per person: requests, answers, rates.

    A request's row is keyed by its id and filled from both sides (the request, the answer),
    whichever is appended first; the first answer wins. The numbers of each person owning a
    touched row are recounted from the rows after each batch: an answer counts once its
    request is known.
    """

    name = "feedback_loop"
    version = MODEL_VERSION
    handles = frozenset({"FeedbackRequested", "FeedbackGiven"})
    tables = {
        "feedback_requests": """
            request_id uuid PRIMARY KEY, tenant_id uuid NOT NULL, person_id uuid NOT NULL,
            action_id uuid, asked_at timestamptz, expires_at timestamptz, asked_position bigint,
            answered_at timestamptz, useful boolean, answer_position bigint,
            model_version integer NOT NULL""",
        "feedback_people": """
            tenant_id uuid NOT NULL, person_id uuid NOT NULL, requests integer NOT NULL,
            answers integer NOT NULL, useful integer NOT NULL,
            response_rate numeric GENERATED ALWAYS AS (CASE WHEN requests > 0
                THEN round(answers::numeric / requests, 4) END) STORED,
            usefulness_rate numeric GENERATED ALWAYS AS (CASE WHEN answers > 0
                THEN round(useful::numeric / answers, 4) END) STORED,
            model_version integer NOT NULL, PRIMARY KEY (tenant_id, person_id)""",
    }
    indexes = {"feedback_requests": ["person_id, asked_at"]}

    def begin_rebuild(self) -> FeedbackLoopFold:
        """A rebuild's fold.

        Returns:
            A :class:`FeedbackLoopFold`: the whole log folded in memory, each table written
            once; catch-up applies batches with :meth:`apply`.
        """
        return FeedbackLoopFold(self.version)

    @collector_paused()
    def apply(
        self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
    ) -> None:
        """Fold a batch into the tables: its events' effects (:meth:`FeedbackState.add`),
        one upsert of the request rows, then the owners of the touched rows recounted.

        Parameters:
            conn: the batch's transaction.
            events: the batch, in position order.
            tables: base table name -> physical name.
        """
        batch = FeedbackState()
        batch.add(events)
        if not (batch.asked or batch.answered):
            return
        pg = as_psycopg(conn)
        ids = batch.requests()
        upsert_requests(pg, tables["feedback_requests"], batch, ids, self.version)
        recount_owners(pg, tables, ids, self.version)


def upsert_requests(
    pg: psycopg.Connection[Any], table: str, batch: FeedbackState, ids: list[str], version: int
) -> None:
    """One row per request with both sides of the batch: the request's columns replace those
    of a row without a request or with a later one, the answer's those of a row without an
    answer or with a later one. A new row without its request takes tenant and person from
    the answer."""
    owners = [batch.owner(r) for r in ids]
    asked_wins = (
        "excluded.asked_position IS NOT NULL AND (t.asked_position IS NULL "
        "OR excluded.asked_position < t.asked_position)"
    )
    answer_wins = (
        "excluded.answer_position IS NOT NULL AND (t.answer_position IS NULL "
        "OR excluded.answer_position < t.answer_position)"
    )
    sets = ", ".join(
        f"{c} = CASE WHEN {wins} THEN excluded.{c} ELSE t.{c} END"
        for wins, columns in ((asked_wins, ASKED_COLUMNS), (answer_wins, ANSWER_COLUMNS))
        for c in columns
    )
    pg.execute(
        f"""
        INSERT INTO {table} AS t (request_id, {", ".join(ASKED_COLUMNS)}, answered_at,
            useful, answer_position, model_version)
        SELECT u.*, %b FROM unnest({LIST_SQL}::uuid[], {LIST_SQL}::uuid[], {LIST_SQL}::uuid[],
            %b::uuid[], %b::timestamptz[], %b::timestamptz[], %b::bigint[],
            %b::timestamptz[], %b::boolean[], %b::bigint[]) AS u
        ON CONFLICT (request_id) DO UPDATE SET {sets}
        WHERE ({asked_wins}) OR ({answer_wins})""",
        [
            version,
            joined(ids),
            joined([tenant for tenant, _ in owners]),
            joined([person for _, person in owners]),
            *_side_columns(batch, ids),
        ],
    )


def _side_columns(batch: FeedbackState, ids: list[str]) -> list[list[Any]]:
    """The request's columns (action, asked, expires, position) and the answer's (answered,
    useful, position) of each row ``ids``, None where the batch lacks that side."""
    requests = [batch.asked.get(r) for r in ids]
    answers = [batch.answered.get(r) for r in ids]
    return [
        [r and r.action_id for r in requests],
        [r and r.asked_at for r in requests],
        [r and r.expires_at for r in requests],
        [r and r.position for r in requests],
        [a and a.answered_at for a in answers],
        [a and a.useful for a in answers],
        [a and a.position for a in answers],
    ]


def recount_owners(
    pg: psycopg.Connection[Any], tables: Mapping[str, str], ids: list[str], version: int
) -> None:
    """Recount the owners of every request row ``ids`` touched, from the rows (what
    :meth:`FeedbackState.people` counts in memory)."""
    table = tables["feedback_requests"]
    pg.execute(
        f"""
        INSERT INTO {tables["feedback_people"]} AS t (tenant_id, person_id, requests,
            answers, useful, model_version)
        SELECT r.tenant_id, r.person_id, count(*),
            count(*) FILTER (WHERE r.answer_position IS NOT NULL),
            count(*) FILTER (WHERE r.answer_position IS NOT NULL AND r.useful), %b
        FROM {table} AS r
        WHERE r.asked_position IS NOT NULL AND r.person_id IN (
            SELECT person_id FROM {table} WHERE request_id = ANY({LIST_SQL}::uuid[]))
        GROUP BY r.tenant_id, r.person_id
        ON CONFLICT (tenant_id, person_id) DO UPDATE SET requests = excluded.requests,
            answers = excluded.answers, useful = excluded.useful""",
        [version, joined(ids)],
    )


class FeedbackLoopFold(StateFold[FeedbackState]):
    """A rebuild's fold of :class:`FeedbackLoopProjection`: the events of a chunk of people
    in one :class:`FeedbackState`; ``flush`` counts each person's numbers from its rows and COPYs.

    Parameters:
        version: the model version written in every row.
    """

    def __init__(self, version: int) -> None:
        super().__init__(version, FeedbackState)

    def write(self, pg: CopyBuffer, tables: Mapping[str, str]) -> None:
        """Encode the rows of a chunk's state for both tables.

        Parameters:
            pg: where the COPY text goes.
            tables: base table name -> physical name (shadow tables, no keys yet).
        """
        version, state = self.version, self.state

        copy_lines(
            pg,
            tables["feedback_requests"],
            f"request_id, {', '.join(ASKED_COLUMNS)}, {', '.join(ANSWER_COLUMNS)}, model_version",
            (encode_row((*row, version)) for row in state.request_rows()),
        )
        copy_lines(
            pg,
            tables["feedback_people"],
            "tenant_id, person_id, requests, answers, useful, model_version",
            (
                f"{tenant}\t{person}\t{n.requests}\t{n.answers}\t{n.useful}\t{version}\n"
                for (tenant, person), n in state.people().items()
            ),
        )
