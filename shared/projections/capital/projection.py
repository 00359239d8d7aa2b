"""Person capital's projection: weekly investment and returns per dimension, and every
contribution.

Rows hold undecayed weekly sums (additions commute, so incremental and one-pass projection
agree exactly); scores decay at read time (shared/projections/capital/reads.py). Each action
and outcome also lands in ``capital_contributions``, which explains every score.

Both paths fold events with :class:`CapitalState`, which credits the outcomes naming an
action in event order, and credit the others with :func:`credit_unlinked`: catch-up
(:meth:`CapitalProjection.apply`) loads what a batch's crediting needs from the stored
contributions, credits the stored outcomes awaiting the actions it logs
(``capital_pending_links``) and writes what changed; a rebuild (:class:`CapitalFold`)
credits from memory and COPYs each table once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import psycopg
from sqlalchemy import Connection

from shared.copy_format import CopyBuffer, copy_lines
from shared.database import as_psycopg
from shared.domain.scoring import MODEL_VERSION
from shared.eventlog import RecordedEvent
from shared.gc_pause import collector_paused
from shared.projections.capital.evidence import (
    ABSENCE_COLUMNS,
    EVIDENCE_KINDS,
    REQUEST_COLUMNS,
)
from shared.projections.capital.evidence_sql import load_requests, store_evidence
from shared.projections.capital.state import (
    CREDIT_WINDOW,
    ActionRecord,
    CapitalState,
    credit_unlinked,
    timelines,
)
from shared.projections.projection import PersonRowsFold
from shared.projections.runtime import LIST_SQL, Projection, joined

CONTRIBUTION_COLUMNS = (
    "event_id, tenant_id, person_id, kind, ref_id, tactic, outcome_kind, week_index, "
    "occurred_at, position, model_version, c, v, r, minutes, audience, counterpart_id, confirmed"
)
"""The order of a contribution's COPY line (an action's numbers, minutes and audience are
one cached text)."""
PENDING_COLUMNS = "event_id, tenant_id, person_id, action_id"
WEEK_COLUMNS = (
    "tenant_id, person_id, week_index, inv_c, inv_v, inv_r, ret_c, ret_v, ret_r, actions, "
    "visible_actions, outcomes, model_version"
)


class CapitalProjection(Projection):
    """Per person and week: investment and returns per dimension (``capital_weeks``), and
    each action and outcome with its share (``capital_contributions``)."""

    name = "capital"
    version = MODEL_VERSION
    handles = (
        frozenset({"MicroActionLogged", "MicroActionRetracted", "OutcomeRecorded", "PersonErased"})
        | EVIDENCE_KINDS
    )
    tables = {
        "capital_weeks": """
            tenant_id uuid NOT NULL, person_id uuid NOT NULL, week_index integer NOT NULL,
            inv_c bigint NOT NULL DEFAULT 0, inv_v bigint NOT NULL DEFAULT 0,
            inv_r bigint NOT NULL DEFAULT 0, ret_c bigint NOT NULL DEFAULT 0,
            ret_v bigint NOT NULL DEFAULT 0, ret_r bigint NOT NULL DEFAULT 0,
            actions integer NOT NULL DEFAULT 0, visible_actions integer NOT NULL DEFAULT 0,
            outcomes integer NOT NULL DEFAULT 0, model_version integer NOT NULL,
            PRIMARY KEY (person_id, week_index)""",
        "capital_contributions": """
            event_id uuid PRIMARY KEY, tenant_id uuid NOT NULL, person_id uuid NOT NULL,
            kind text NOT NULL, ref_id uuid NOT NULL, tactic text, outcome_kind text,
            week_index integer NOT NULL, occurred_at timestamptz NOT NULL,
            c bigint NOT NULL, v bigint NOT NULL, r bigint NOT NULL, position bigint NOT NULL,
            model_version integer NOT NULL, minutes integer, audience text,
            counterpart_id uuid, confirmed boolean NOT NULL DEFAULT false""",
        # outcomes naming an action that does not stand yet (an import may put an outcome
        # before its action): the action's logging, in a later batch, credits them
        "capital_pending_links": """
            event_id uuid PRIMARY KEY, tenant_id uuid NOT NULL, person_id uuid NOT NULL,
            action_id uuid NOT NULL""",
        # feedback requests naming an action: a useful answer from the named colleague
        # (perhaps in a later batch) confirms it
        "capital_requests": """
            event_id uuid PRIMARY KEY, tenant_id uuid NOT NULL, person_id uuid NOT NULL,
            request_id uuid NOT NULL, action_id uuid NOT NULL, model_version integer NOT NULL""",
        "capital_absences": """
            tenant_id uuid NOT NULL, person_id uuid NOT NULL, absence_id uuid NOT NULL,
            starts_on date NOT NULL, ends_on date NOT NULL, model_version integer NOT NULL,
            PRIMARY KEY (person_id, absence_id)""",
    }
    indexes = {
        "capital_contributions": ["person_id, occurred_at", "ref_id", "counterpart_id"],
        "capital_pending_links": ["action_id"],
        "capital_requests": ["person_id, request_id"],
    }

    def begin_rebuild(self) -> CapitalFold:
        """A rebuild's fold.

        Returns:
            A :class:`CapitalFold`: the whole log folded in memory, each table written once;
            catch-up applies batches with :meth:`apply`.
        """
        return CapitalFold(self.version)

    @collector_paused()
    def apply(
        self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
    ) -> None:
        """Fold a batch into the tables: its events' effects (:meth:`CapitalState.add`),
        its outcomes credited, the stored outcomes awaiting the actions it logs credited,
        the stored actions it undoes deleted, its weekly sums added and its contributions
        and still pending links COPYed.

        Parameters:
            conn: the batch's transaction.
            events: the batch, in position order.
            tables: base table name -> physical name.
        """
        batch = CapitalState(self.version)
        pg = as_psycopg(conn)
        load_requests(pg, tables["capital_requests"], events, batch.evidence)
        batch.add(events)
        contributions = tables["capital_contributions"]
        if batch.unseen:
            credit_from_stored(pg, contributions, batch)
        if batch.unlinked:
            credit_batch_unlinked(pg, contributions, batch)
        if batch.actions:  # before this batch's own pending links are stored
            credit_pending(pg, tables, batch)
        if batch.retracted_at:  # every stored row of an undone action was logged before
            pg.execute(
                f"DELETE FROM {contributions} c USING unnest({LIST_SQL}::uuid[], "
                f"{LIST_SQL}::uuid[]) AS r(person_id, ref_id) WHERE c.kind = 'action' "
                "AND c.person_id = r.person_id AND c.ref_id = r.ref_id",
                (
                    joined(person for person, _ in batch.retracted_at),
                    joined(action for _, action in batch.retracted_at),
                ),
            )
        store_evidence(pg, tables, batch.evidence)
        if batch.weeks:
            add_weeks(pg, tables["capital_weeks"], batch)
        if batch.actions or batch.outcomes:
            copy_lines(
                pg,
                contributions,
                CONTRIBUTION_COLUMNS,
                batch.standing_action_lines(),
                batch.outcome_lines(),
            )
        pending = batch.pending()
        if pending:
            copy_lines(
                pg,
                tables["capital_pending_links"],
                PENDING_COLUMNS,
                [o.pending_line() for o in pending],
            )
        if batch.erased:
            forget_counterparts(pg, contributions, batch.erased)
        if batch.named:
            forget_erased_counterparts(pg, contributions, batch)


def forget_counterparts(pg: psycopg.Connection[Any], table: str, people: Iterable[str]) -> None:
    """No contribution keeps an erased person's id as its counterpart (issue #17): the
    colleague's action stays, without whom it was with.

    Parameters:
        pg: the psycopg connection of the transaction.
        table: the physical ``capital_contributions`` table.
        people: the erased people's ids.
    """
    pg.execute(
        f"UPDATE {table} SET counterpart_id = NULL WHERE counterpart_id = ANY(%s::uuid[])",
        (list(people),),
    )


def forget_erased_counterparts(
    pg: psycopg.Connection[Any], table: str, batch: CapitalState
) -> None:
    """The batch's actions that name a person erased before them keep no counterpart either:
    a rebuild forgets every erased person at its end, whenever their action came
    (``CapitalFold.finish``), so catch-up does the same for actions that come after the
    erasure (the tenants' ``PersonErased`` events, by the events' (tenant, type) index).

    Parameters:
        pg: the psycopg connection of the transaction.
        table: the physical ``capital_contributions`` table.
        batch: the batch, with the counterparts its actions name.
    """
    pg.execute(
        f"UPDATE {table} SET counterpart_id = NULL WHERE counterpart_id = ANY({LIST_SQL}::uuid[])"
        " AND counterpart_id::text IN (SELECT data->>'person_id' FROM events"
        f" WHERE tenant_id = ANY({LIST_SQL}::uuid[]) AND type = 'PersonErased')",
        (joined(batch.named), joined(set(batch.tenants.values()))),
    )


def credit_from_stored(pg: psycopg.Connection[Any], table: str, batch: CapitalState) -> None:
    """Credit the batch's outcomes naming an action it had not seen before them
    (:attr:`CapitalState.unseen`) with that action's tactic when the stored contributions
    hold it: it stood when the batch began (undoing an action deletes its rows)."""
    named = list({(o.person, o.action_id or "") for o in batch.unseen})
    stored: dict[tuple[str, str], str] = {
        (person, ref): tactic
        for person, ref, tactic in pg.execute(
            f"SELECT c.person_id::text, c.ref_id::text, c.tactic FROM {table} c "
            f"JOIN unnest({LIST_SQL}::uuid[], {LIST_SQL}::uuid[]) AS n(person_id, ref_id) "
            "ON c.person_id = n.person_id AND c.ref_id = n.ref_id WHERE c.kind = 'action'",
            (joined(p for p, _ in named), joined(a for _, a in named)),
        )
    }
    for outcome in batch.unseen:
        tactic = stored.get((outcome.person, outcome.action_id or ""))
        if tactic is not None:
            outcome.tactic = tactic


def credit_batch_unlinked(pg: psycopg.Connection[Any], table: str, batch: CapitalState) -> None:
    """Credit a batch's outcomes naming no action (:func:`credit_unlinked`) with the stored
    actions in the window of each person's outcomes and the batch's own: one query."""
    unlinked = batch.unlinked
    rows = pg.execute(
        f"SELECT occurred_at, position, tactic, ref_id::text, person_id::text FROM {table} "
        "WHERE kind = 'action' AND person_id = ANY(%s::uuid[]) "
        "AND occurred_at BETWEEN %s AND %s",
        (
            list({o.person for o in unlinked}),
            min(o.at for o in unlinked) - CREDIT_WINDOW,
            max(o.at for o in unlinked),
        ),
    )
    candidates = [ActionRecord(*row) for row in rows]
    candidates += batch.actions  # those of this batch
    credit_unlinked(unlinked, timelines(candidates), batch.retracted_at)


def credit_pending(
    pg: psycopg.Connection[Any], tables: Mapping[str, str], batch: CapitalState
) -> None:
    """Credit the stored outcomes awaiting an action the batch logs (appended before it, in
    an earlier batch) with the tactic of its first logging in the batch, and drop their
    pending links: one statement."""
    first: dict[tuple[str, str], str] = {}
    for action in batch.actions:
        first.setdefault((action.person, action.action_id), action.tactic)
    pg.execute(
        f"""
        WITH credited AS (
            DELETE FROM {tables["capital_pending_links"]} AS p
            USING unnest({LIST_SQL}::uuid[], {LIST_SQL}::uuid[], {LIST_SQL}::text[])
                AS l(person_id, action_id, tactic)
            WHERE p.action_id = l.action_id AND p.person_id = l.person_id
            RETURNING p.event_id, l.tactic)
        UPDATE {tables["capital_contributions"]} AS c SET tactic = credited.tactic
        FROM credited WHERE c.event_id = credited.event_id""",
        (
            joined(person for person, _ in first),
            joined(action for _, action in first),
            joined(first.values()),
        ),
    )


def add_weeks(pg: psycopg.Connection[Any], table: str, batch: CapitalState) -> None:
    """Add a batch's weekly sums to ``capital_weeks`` (additions commute)."""
    keys = list(batch.weeks)
    tenants = batch.tenants
    sums = zip(*(s.columns() for s in batch.weeks.values()), strict=True)  # 9 columns
    pg.execute(
        f"""
        INSERT INTO {table} AS t (tenant_id, person_id, week_index,
            inv_c, inv_v, inv_r, ret_c, ret_v, ret_r, actions, visible_actions,
            outcomes, model_version)
        SELECT u.*, %s FROM unnest({LIST_SQL}::uuid[], {LIST_SQL}::uuid[],
            {LIST_SQL}::int[], {LIST_SQL}::bigint[], {LIST_SQL}::bigint[],
            {LIST_SQL}::bigint[], {LIST_SQL}::bigint[], {LIST_SQL}::bigint[],
            {LIST_SQL}::bigint[], {LIST_SQL}::int[], {LIST_SQL}::int[],
            {LIST_SQL}::int[]) AS u
        ON CONFLICT (person_id, week_index) DO UPDATE SET
            inv_c = t.inv_c + excluded.inv_c, inv_v = t.inv_v + excluded.inv_v,
            inv_r = t.inv_r + excluded.inv_r, ret_c = t.ret_c + excluded.ret_c,
            ret_v = t.ret_v + excluded.ret_v, ret_r = t.ret_r + excluded.ret_r,
            actions = t.actions + excluded.actions,
            visible_actions = t.visible_actions + excluded.visible_actions,
            outcomes = t.outcomes + excluded.outcomes""",
        [
            batch.version,
            joined([tenants[person] for person, _ in keys]),
            joined([person for person, _ in keys]),
            joined([str(week) for _, week in keys]),
            *(joined(map(str, column)) for column in sums),
        ],
    )


class CapitalFold(PersonRowsFold):
    """A rebuild's fold of :class:`CapitalProjection`: what ``apply`` writes when handed a
    chunk of people's events as one batch, folded in memory (:class:`CapitalState`, the code
    ``apply`` folds a batch with), credited in memory (a person's events are all in their
    chunk) and appended to each table with COPY.

    Parameters:
        version: the model version written in every row.
    """

    def __init__(self, version: int) -> None:
        self.state = CapitalState(version)
        self.erased: set[str] = set()

    @collector_paused()  # hundreds of thousands of lines and tuples kept, no cycles
    def fold(self, events: Sequence[RecordedEvent]) -> None:
        """Fold a chunk's events (in position order) in.

        Parameters:
            events: the chunk's events of the handled types.
        """
        self.state.add(events)

    def credit(self) -> None:
        """Credit the outcomes naming no action (:func:`credit_unlinked`) from the actions
        held: the table holds none of these people's yet. (Those naming one were credited as
        they were folded in; those still awaiting their action stay pending.)"""
        state = self.state
        if state.unlinked:
            credit_unlinked(state.unlinked, timelines(state.actions), state.retracted_at)

    @collector_paused()
    def flush(self, copies: CopyBuffer, tables: Mapping[str, str]) -> None:
        """Credit the chunk's outcomes, encode its rows for each table and start the next
        chunk afresh.

        Parameters:
            copies: where the COPY text goes.
            tables: base table name -> physical name (shadow tables, no keys yet).
        """
        state = self.state
        self.credit()
        version, tenants = state.version, state.tenants
        pg = copies
        copy_lines(
            pg,
            tables["capital_weeks"],
            WEEK_COLUMNS,
            (
                f"{tenants[person]}\t{person}\t{week}\t{s.inv_c}\t{s.inv_v}\t{s.inv_r}\t"
                f"{s.ret_c}\t{s.ret_v}\t{s.ret_r}\t{s.actions}\t{s.visible_actions}\t"
                f"{s.outcomes}\t{version}\n"
                for (person, week), s in state.weeks.items()
            ),
        )
        copy_lines(
            pg,
            tables["capital_contributions"],
            CONTRIBUTION_COLUMNS,
            state.standing_action_lines(),
            state.outcome_lines(),
        )
        pending = state.pending()
        if pending:
            copy_lines(
                pg,
                tables["capital_pending_links"],
                PENDING_COLUMNS,
                [o.pending_line() for o in pending],
            )
        evidence = state.evidence
        if evidence.request_lines:
            copy_lines(pg, tables["capital_requests"], REQUEST_COLUMNS, evidence.request_lines)
        if evidence.absences:
            copy_lines(pg, tables["capital_absences"], ABSENCE_COLUMNS, evidence.absence_lines())
        self.erased.update(state.erased)
        self.state = CapitalState(version)

    def finish(self, conn: Connection, tables: Mapping[str, str]) -> bool:
        """Forget the counterparts erased in any chunk (:func:`forget_counterparts`).

        Parameters:
            conn: the transaction that finishes the pass.
            tables: base table name -> physical name.

        Returns:
            True: the chunks' rows stand.
        """
        if self.erased:
            forget_counterparts(as_psycopg(conn), tables["capital_contributions"], self.erased)
        return True
