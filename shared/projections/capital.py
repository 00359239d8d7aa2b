"""Person capital: weekly investment and returns per dimension, and every contribution.

Rows hold undecayed weekly sums (additions commute, so incremental and one-pass projection
agree exactly); scores decay at read time (``shared.domain.scoring``). Each action and outcome
also lands in ``capital_contributions``, which explains every score.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from shared.database import as_psycopg
from shared.domain.scoring import MODEL_VERSION, evidence, investment
from shared.eventlog import RecordedEvent
from shared.projections.runtime import LIST_SQL, Projection, collector_paused, joined

EPOCH_MONDAY = date(1970, 1, 5)
# Sums are kept in integer millionths: integer addition is exact and order-free, so every
# batching (and a rebuild) yields identical rows; floating-point sums would differ in the
# last digits depending on the order of additions.
MICRO = 1_000_000
CREDIT_WINDOW = timedelta(days=14)
NULL = "\\N"  # in COPY's text format


def _micro(values: tuple[float, float, float]) -> tuple[int, int, int]:
    return (round(values[0] * MICRO), round(values[1] * MICRO), round(values[2] * MICRO))


class _Investments(dict[tuple[str, int, str], tuple[int, int, int]]):
    """An action's investment in millionths by (tactic, minutes, audience), computed once."""

    def __missing__(self, key: tuple[str, int, str]) -> tuple[int, int, int]:
        value = self[key] = _micro(investment(*key))
        return value


_INVESTMENTS = _Investments()


def week_index(day: date) -> int:
    return (day - EPOCH_MONDAY).days // 7


def week_label(index: int) -> str:
    monday = EPOCH_MONDAY + timedelta(weeks=index)
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


class CapitalProjection(Projection):
    name = "capital"
    version = MODEL_VERSION
    handles = frozenset(
        {"MicroActionLogged", "MicroActionRetracted", "OutcomeRecorded", "PersonErased"}
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
            model_version integer NOT NULL""",
    }
    indexes = {
        "capital_contributions": ["person_id, occurred_at", "ref_id"],
    }

    @collector_paused
    def apply(
        self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
    ) -> None:
        weeks: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0] * 9)
        tenants: dict[str, Any] = {}
        rows: list[list[Any]] = []  # capital_contributions rows, in event order
        pending: list[tuple[int, RecordedEvent]] = []  # outcomes whose tactic is looked up
        # An unlinked outcome credits the person's latest action (by event time) in the 14 days
        # before it, among actions appended before it: the same answer whatever the batches.
        actions_in_batch: dict[str, list[tuple[Any, int, str, str]]] = defaultdict(list)
        tactic_of: dict[str, str] = {}
        # An undone action (MicroActionRetracted) is subtracted where it was added; outcomes
        # appended while it stood keep their credit, whatever the batches.
        row_of: dict[str, int] = {}  # action id -> index of its row in ``rows``
        retracted_at: dict[str, int] = {}  # action id -> position of its retraction
        for e in events:
            data = e.data
            if e.type == "PersonErased":
                continue  # capital rows hold no personal text; numbers stay for aggregates
            person = data["person_id"]
            tenant = e.tenant_id_text
            tenants[person] = tenant
            week = week_index(e.occurred_at.date())
            totals = weeks[(person, week)]
            if e.type == "MicroActionRetracted":
                c, v, r = _INVESTMENTS[data["tactic"], data["minutes"], data["audience"]]
                totals[0] -= c
                totals[1] -= v
                totals[2] -= r
                totals[6] -= 1
                if data["audience"] != "private":
                    totals[7] -= 1
                retracted_at[data["action_id"]] = e.position
                continue
            if e.type == "MicroActionLogged":
                c, v, r = _INVESTMENTS[data["tactic"], data["minutes"], data["audience"]]
                totals[0] += c
                totals[1] += v
                totals[2] += r
                totals[6] += 1
                if data["audience"] != "private":
                    totals[7] += 1
                actions_in_batch[person].append(
                    (e.occurred_at, e.position, data["tactic"], data["action_id"])
                )
                tactic_of[data["action_id"]] = data["tactic"]
                row_of[data["action_id"]] = len(rows)
                rows.append(
                    [
                        e.event_id_text,
                        tenant,
                        person,
                        "action",
                        data["action_id"],
                        data["tactic"],
                        None,
                        week,
                        e.occurred_at,
                        c,
                        v,
                        r,
                        e.position,
                        self.version,
                    ]
                )
            else:  # OutcomeRecorded
                c, v, r = _micro(evidence(data["kind"]))
                totals[3] += c
                totals[4] += v
                totals[5] += r
                totals[8] += 1
                pending.append((len(rows), e))
                rows.append(
                    [
                        e.event_id_text,
                        tenant,
                        person,
                        "outcome",
                        data["outcome_id"],
                        None,
                        data["kind"],
                        week,
                        e.occurred_at,
                        c,
                        v,
                        r,
                        e.position,
                        self.version,
                    ]
                )
        if pending:
            self._credit(conn, tables, rows, pending, tactic_of, actions_in_batch, retracted_at)
        pg = as_psycopg(conn)
        if retracted_at:  # after crediting: outcomes before the retraction saw the action
            dropped = {row_of[a] for a in retracted_at if a in row_of}
            rows = [row for i, row in enumerate(rows) if i not in dropped]
            stored = [a for a in retracted_at if a not in row_of]
            if stored:
                pg.execute(
                    f"DELETE FROM {tables['capital_contributions']} WHERE kind = 'action' "
                    "AND ref_id = ANY(%s::uuid[])",
                    (stored,),
                )
        if weeks:
            keys = list(weeks)
            sums = list(zip(*weeks.values(), strict=True))  # 9 columns of integers
            pg.execute(
                f"""
                INSERT INTO {tables["capital_weeks"]} AS t (tenant_id, person_id, week_index,
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
                    self.version,
                    joined([tenants[person] for person, _ in keys]),
                    joined([person for person, _ in keys]),
                    joined([str(week) for _, week in keys]),
                    *(joined(map(str, column)) for column in sums),
                ],
            )
        if rows:
            # COPY's text format written directly: every value is an id, a number, a name
            # from a fixed set or a timestamp, none holding a tab, newline or backslash.
            lines = [
                f"{event_id}\t{tenant}\t{person}\t{kind}\t{ref}\t{tactic or NULL}\t"
                f"{outcome or NULL}\t{week}\t{at.isoformat()}\t{c}\t{v}\t{r}\t{position}\t"
                f"{version}\n"
                for (
                    event_id, tenant, person, kind, ref, tactic, outcome, week, at, c, v, r,
                    position, version,
                ) in rows
            ]  # fmt: skip
            with (
                pg.cursor() as cur,
                cur.copy(
                    f"COPY {tables['capital_contributions']} (event_id, tenant_id, person_id, "
                    "kind, ref_id, tactic, outcome_kind, week_index, occurred_at, c, v, r, "
                    "position, model_version) FROM STDIN"
                ) as copy,
            ):
                copy.write("".join(lines))

    @staticmethod
    def _credit(
        conn: Connection,
        tables: Mapping[str, str],
        rows: list[list[Any]],
        pending: list[tuple[int, RecordedEvent]],
        tactic_of: dict[str, str],
        actions_in_batch: dict[str, list[tuple[Any, int, str, str]]],
        retracted_at: dict[str, int],
    ) -> None:
        """Fill in the tactic each outcome credits, with two queries for the whole batch."""
        table = tables["capital_contributions"]
        pg = as_psycopg(conn)
        linked = [
            e.data["action_id"]
            for _, e in pending
            if e.data["action_id"] and e.data["action_id"] not in tactic_of
        ]
        if linked:
            for ref, tactic in pg.execute(
                f"SELECT ref_id::text, tactic FROM {table} WHERE kind = 'action' "
                "AND ref_id = ANY(%s::uuid[])",
                (linked,),
            ):
                tactic_of[ref] = tactic
        unlinked = [e for _, e in pending if not e.data["action_id"]]
        stored: dict[str, list[tuple[Any, int, str, str]]] = defaultdict(list)
        if unlinked:
            people = list({e.data["person_id"] for e in unlinked})
            start = min(e.occurred_at for e in unlinked) - CREDIT_WINDOW
            end = max(e.occurred_at for e in unlinked)
            for person, at, position, tactic, ref in pg.execute(
                f"SELECT person_id::text, occurred_at, position, tactic, ref_id::text "
                f"FROM {table} "
                "WHERE kind = 'action' AND person_id = ANY(%s::uuid[]) "
                "AND occurred_at BETWEEN %s AND %s",
                (people, start, end),
            ):
                stored[person].append((at, position, tactic, ref))
        for index, e in pending:
            action = e.data["action_id"]
            if action:
                # An action undone before the outcome was appended credits nothing (its stored
                # row is gone too), whatever the batches.
                standing = retracted_at.get(action, e.position + 1) > e.position
                rows[index][5] = tactic_of.get(action) if standing else None
                continue
            person = e.data["person_id"]
            window = e.occurred_at - CREDIT_WINDOW
            candidates = [
                (at, pos, tactic)
                for at, pos, tactic, ref in (*stored[person], *actions_in_batch[person])
                if window <= at <= e.occurred_at
                and pos < e.position
                and retracted_at.get(ref, e.position + 1) > e.position
            ]
            rows[index][5] = max(candidates)[2] if candidates else None


def read_capital(
    conn: Connection, tenant_id: Any, person_id: Any, as_of: date, history_weeks: int = 12
) -> dict[str, Any]:
    """The person's capital as of the ISO week of ``as_of``: scores, weekly history, flags,
    tactic conversion and the explanation of each score (its largest contributions)."""
    from shared.domain import scoring

    current = week_index(as_of)
    rows = conn.execute(
        text(
            "SELECT week_index, inv_c, inv_v, inv_r, ret_c, ret_v, ret_r, actions, "
            "visible_actions FROM capital_weeks WHERE person_id = :p AND tenant_id = :t "
            "AND week_index <= :w ORDER BY week_index"
        ),
        {"p": person_id, "t": tenant_id, "w": current},
    ).all()
    weeks = [
        scoring.WeekTotals(
            r.week_index,
            (r.inv_c / MICRO, r.inv_v / MICRO, r.inv_r / MICRO),  # stored in millionths
            (r.ret_c / MICRO, r.ret_v / MICRO, r.ret_r / MICRO),
            r.actions,
            r.visible_actions,
        )
        for r in rows
    ]
    scores = scoring.scores_at(weeks, current)
    contributions = conn.execute(
        text(
            "SELECT kind, ref_id, tactic, outcome_kind, week_index, occurred_at, c, v, r "
            "FROM capital_contributions WHERE person_id = :p AND tenant_id = :t "
            "AND week_index <= :w"
        ),
        {"p": person_id, "t": tenant_id, "w": current},
    ).all()
    explanation: dict[str, list[dict[str, Any]]] = {}
    for d, dimension in enumerate(scoring.DIMENSIONS):
        weighted = []
        for c in contributions:
            raw = (c.c, c.v, c.r)[d] / MICRO
            if raw <= 0:
                continue
            half_life = (
                scoring.INVESTMENT_HALF_LIFE_WEEKS
                if c.kind == "action"
                else scoring.RETURNS_HALF_LIFE_WEEKS
            )
            weight = scoring.RETURNS_WEIGHT if c.kind == "outcome" else 1.0
            value = raw * weight * scoring.decay(current - c.week_index, half_life)
            weighted.append((value, c))
        total = sum(v for v, _ in weighted) or 1.0
        weighted.sort(key=lambda vc: (-vc[0], vc[1].occurred_at))
        explanation[dimension] = [
            {
                "kind": c.kind,
                "id": str(c.ref_id),
                "tactic": c.tactic,
                "outcome": c.outcome_kind,
                "occurred_at": c.occurred_at.isoformat(),
                "share": round(v / total, 3),
            }
            for v, c in weighted[:10]
        ]
    conversion: dict[str, dict[str, float]] = {}
    for c in contributions:
        if c.tactic is None:
            continue
        entry = conversion.setdefault(c.tactic, {"actions": 0, "outcomes": 0})
        entry["actions" if c.kind == "action" else "outcomes"] += 1
    for entry in conversion.values():
        entry["rate"] = round(entry["outcomes"] / entry["actions"], 2) if entry["actions"] else 0.0
    history = [
        {"week": week_label(w), **scoring.scores_at(weeks, w).as_dict()}
        for w in range(current - history_weeks + 1, current + 1)
    ]
    last_deposit = max(
        (
            c.week_index
            for c in contributions
            if c.kind == "action" and c.tactic == "relationship_deposit"
        ),
        default=None,
    )
    signal = scoring.signal_vs_substance(weeks, current)
    return {
        "model_version": scoring.MODEL_VERSION,
        "week": week_label(current),
        "scores": {
            name: {"value": value, "explanation": explanation[name]}
            for name, value in scores.as_dict().items()
        },
        "history": history,
        "signal_vs_substance": signal,
        "rotation": scoring.rotation_balance(weeks, current),
        "consistency": scoring.consistency(weeks, current),
        "tactic_conversion": conversion,
        "flags": ["all_signal_no_substance"] if signal["all_signal"] else [],
        "weeks_since_relationship_deposit": None
        if last_deposit is None
        else current - last_deposit,
    }


def read_recent(
    conn: Connection,
    tenant_id: Any,
    person_id: Any,
    kind: str,
    since: datetime | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The person's latest actions or outcomes (``kind``), newest first, each with the
    position of its event (its personal text is read from the log, decrypted)."""
    rows = conn.execute(
        text(
            "SELECT ref_id, tactic, outcome_kind, occurred_at, position "
            "FROM capital_contributions WHERE person_id = :p AND tenant_id = :t AND kind = :k "
            "AND occurred_at >= :since ORDER BY occurred_at DESC, position DESC LIMIT :n"
        ),
        {
            "p": person_id,
            "t": tenant_id,
            "k": kind,
            "since": since or datetime(1970, 1, 1, tzinfo=UTC),
            "n": limit,
        },
    ).mappings()
    return [dict(row) for row in rows]
