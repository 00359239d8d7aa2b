"""Person capital: weekly investment and returns per dimension, and every contribution.

Rows hold undecayed weekly sums (additions commute, so incremental and one-pass projection
agree exactly); scores decay at read time (``shared.domain.scoring``). Each action and outcome
also lands in ``capital_contributions``, which explains every score.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from shared.database import as_psycopg
from shared.domain.scoring import MODEL_VERSION, evidence, investment
from shared.eventlog import RecordedEvent
from shared.projections.bulk import NULL, copy_lines, load_tables
from shared.projections.runtime import LIST_SQL, Projection, collector_paused, joined

EPOCH_MONDAY = date(1970, 1, 5)
# Sums are kept in integer millionths: integer addition is exact and order-free, so every
# batching (and a rebuild) yields identical rows; floating-point sums would differ in the
# last digits depending on the order of additions.
MICRO = 1_000_000
CREDIT_WINDOW = timedelta(days=14)


def _micro(values: tuple[float, float, float]) -> tuple[int, int, int]:
    return (round(values[0] * MICRO), round(values[1] * MICRO), round(values[2] * MICRO))


class _Investments(dict[tuple[str, int, str], tuple[int, int, int]]):
    """An action's investment in millionths by (tactic, minutes, audience), computed once."""

    def __missing__(self, key: tuple[str, int, str]) -> tuple[int, int, int]:
        value = self[key] = _micro(investment(*key))
        return value


_INVESTMENTS = _Investments()


class _InvestmentTexts(dict[tuple[str, int, str], str]):
    """An action's investment in millionths as COPY text (``c<TAB>v<TAB>r``), made once."""

    def __missing__(self, key: tuple[str, int, str]) -> str:
        value = self[key] = "\t".join(map(str, _INVESTMENTS[key]))
        return value


class _Evidence(dict[str, tuple[int, int, int]]):
    """An outcome's evidence in millionths by its kind, computed once."""

    def __missing__(self, kind: str) -> tuple[int, int, int]:
        value = self[kind] = _micro(evidence(kind))
        return value


_INVESTMENT_TEXTS = _InvestmentTexts()
_EVIDENCE = _Evidence()


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

    def begin_rebuild(self) -> CapitalFold:
        """A rebuild folds the whole log in memory and writes each table once
        (:class:`CapitalFold`); catch-up applies batches with :meth:`apply`."""
        return CapitalFold(self.version)

    @collector_paused
    def apply(
        self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
    ) -> None:
        batch = _Folded(self.version)
        batch.add(events)
        if batch.pending:
            self._credit(conn, tables, batch)
        pg = as_psycopg(conn)
        retracted_at = batch.retracted_at
        lines = batch.action_lines
        if retracted_at:  # after crediting: outcomes before the retraction saw the action
            dropped = batch.dropped()
            if dropped:
                lines = [line for i, line in enumerate(lines) if i not in dropped]
            stored = [a for a in retracted_at if a not in batch.row_of]
            if stored:
                pg.execute(
                    f"DELETE FROM {tables['capital_contributions']} WHERE kind = 'action' "
                    "AND ref_id = ANY(%s::uuid[])",
                    (stored,),
                )
        weeks, tenants = batch.weeks, batch.tenants
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
        if lines or batch.outcomes:
            outcomes = batch.outcome_lines()
            copy_lines(pg, tables["capital_contributions"], CONTRIBUTION_COLUMNS, lines, outcomes)

    @staticmethod
    def _credit(conn: Connection, tables: Mapping[str, str], batch: _Folded) -> None:
        """Fill in the tactic each outcome credits, with two queries for the whole batch."""
        table = tables["capital_contributions"]
        pg = as_psycopg(conn)
        retracted_at, row_of, actions = batch.retracted_at, batch.row_of, batch.actions
        tactic_of = {action: actions[i][3] for action, i in row_of.items()}
        linked = [a for _, _, _, a, _ in batch.pending if a and a not in tactic_of]
        if linked:
            for ref, tactic in pg.execute(
                f"SELECT ref_id::text, tactic FROM {table} WHERE kind = 'action' "
                "AND ref_id = ANY(%s::uuid[])",
                (linked,),
            ):
                tactic_of[ref] = tactic
        unlinked = [(person, at) for _, _, person, action, at in batch.pending if not action]
        candidates_of: dict[str, list[tuple[Any, int, str, str]]] = defaultdict(list)
        if unlinked:
            people = list({person for person, _ in unlinked})
            start = min(at for _, at in unlinked) - CREDIT_WINDOW
            end = max(at for _, at in unlinked)
            for person, at, position, tactic, ref in pg.execute(
                f"SELECT person_id::text, occurred_at, position, tactic, ref_id::text "
                f"FROM {table} "
                "WHERE kind = 'action' AND person_id = ANY(%s::uuid[]) "
                "AND occurred_at BETWEEN %s AND %s",
                (people, start, end),
            ):
                candidates_of[person].append((at, position, tactic, ref))
            for person, at, position, tactic, ref in actions:  # those of this batch
                candidates_of[person].append((at, position, tactic, ref))
        for index, position, person, action, occurred_at in batch.pending:
            if action:
                # An action undone before the outcome was appended credits nothing (its stored
                # row is gone too), whatever the batches.
                standing = retracted_at.get(action, position + 1) > position
                batch.outcomes[index][5] = tactic_of.get(action) if standing else None
                continue
            window = occurred_at - CREDIT_WINDOW
            candidates = [
                (at, pos, tactic)
                for at, pos, tactic, ref in candidates_of.get(person, ())
                if window <= at <= occurred_at
                and pos < position
                and retracted_at.get(ref, position + 1) > position
            ]
            batch.outcomes[index][5] = max(candidates)[2] if candidates else None


CONTRIBUTION_COLUMNS = (
    "event_id, tenant_id, person_id, kind, ref_id, tactic, outcome_kind, week_index, "
    "occurred_at, c, v, r, position, model_version"
)
WEEK_COLUMNS = (
    "tenant_id, person_id, week_index, inv_c, inv_v, inv_r, ret_c, ret_v, ret_r, actions, "
    "visible_actions, outcomes, model_version"
)


class _Folded:
    """Events folded in memory, as :meth:`CapitalProjection.apply` writes them: one batch's,
    or a rebuild's whole log (:class:`CapitalFold`), with the same code, so both agree.

    Contribution rows are kept as COPY text (every value is an id, a number, a name from a
    fixed set or a timestamp, none holding a tab, newline or backslash): an action's line
    once it is read, an outcome's once its tactic is known (``outcomes``, filled in by
    crediting).
    """

    def __init__(self, version: int) -> None:
        self.version = version
        self.weeks: defaultdict[tuple[str, int], list[int]] = defaultdict(lambda: [0] * 9)
        self.tenants: dict[str, str] = {}  # person -> tenant (of their latest event)
        self.action_lines: list[str] = []
        self.outcomes: list[list[Any]] = []  # capital_contributions rows of outcomes
        # outcomes whose tactic is credited: (index in outcomes, position, person, linked
        # action id, occurred_at)
        self.pending: list[tuple[int, int, str, str | None, datetime]] = []
        # An unlinked outcome credits the person's latest action (by event time) in the 14
        # days before it, among actions appended before it: the same answer whatever the
        # batches. Each action, beside its line: (person, occurred_at, position, tactic,
        # action id).
        self.actions: list[tuple[str, datetime, int, str, str]] = []
        # An undone action (MicroActionRetracted) is subtracted where it was added; outcomes
        # appended while it stood keep their credit, whatever the batches.
        self.row_of: dict[str, int] = {}  # action id -> index of its line and its action
        self.retracted_at: dict[str, int] = {}  # action id -> position of its retraction
        self._weeks_of: dict[date, int] = {}

    def add(self, events: Sequence[RecordedEvent]) -> None:
        weeks, tenants, weeks_of = self.weeks, self.tenants, self._weeks_of
        lines, outcomes, pending = self.action_lines, self.outcomes, self.pending
        actions, row_of = self.actions, self.row_of
        retracted_at, version, investments = self.retracted_at, self.version, _INVESTMENTS
        texts = _INVESTMENT_TEXTS
        for e in events:
            kind = e.type
            if kind == "PersonErased":
                continue  # capital rows hold no personal text; numbers stay for aggregates
            data = e.data
            person = data["person_id"]
            tenant = e.tenant_id_text
            tenants[person] = tenant
            at = e.occurred_at
            day = at.date()
            week = weeks_of.get(day)
            if week is None:
                week = weeks_of[day] = week_index(day)
            totals = weeks[(person, week)]
            if kind == "MicroActionLogged":
                tactic, action = data["tactic"], data["action_id"]
                key = (tactic, data["minutes"], data["audience"])
                c, v, r = investments[key]
                totals[0] += c
                totals[1] += v
                totals[2] += r
                totals[6] += 1
                if data["audience"] != "private":
                    totals[7] += 1
                row_of[action] = len(lines)
                actions.append((person, at, e.position, tactic, action))
                lines.append(
                    f"{e.event_id_text}\t{tenant}\t{person}\taction\t{action}\t{tactic}\t"
                    f"{NULL}\t{week}\t{at.isoformat()}\t{texts[key]}\t{e.position}\t"
                    f"{version}\n"
                )
            elif kind == "MicroActionRetracted":
                c, v, r = investments[data["tactic"], data["minutes"], data["audience"]]
                totals[0] -= c
                totals[1] -= v
                totals[2] -= r
                totals[6] -= 1
                if data["audience"] != "private":
                    totals[7] -= 1
                retracted_at[data["action_id"]] = e.position
            else:  # OutcomeRecorded
                c, v, r = _EVIDENCE[data["kind"]]
                totals[3] += c
                totals[4] += v
                totals[5] += r
                totals[8] += 1
                pending.append((len(outcomes), e.position, person, data["action_id"], at))
                outcomes.append(
                    [e.event_id_text, tenant, person, "outcome", data["outcome_id"], None,
                     data["kind"], week, at, c, v, r, e.position, version]
                )  # fmt: skip

    def dropped(self) -> set[int]:
        """The lines of the actions undone (after crediting: outcomes appended before an
        action's retraction saw it)."""
        return {self.row_of[a] for a in self.retracted_at if a in self.row_of}

    def outcome_lines(self) -> list[str]:
        return [
            f"{event_id}\t{tenant}\t{person}\t{kind}\t{ref}\t{tactic or NULL}\t"
            f"{outcome}\t{week}\t{at.isoformat()}\t{c}\t{v}\t{r}\t{position}\t"
            f"{version}\n"
            for (
                event_id, tenant, person, kind, ref, tactic, outcome, week, at, c, v, r,
                position, version,
            ) in self.outcomes
        ]  # fmt: skip


class CapitalFold:
    """A rebuild's fold (``CapitalProjection.begin_rebuild``): what
    :meth:`CapitalProjection.apply` writes when handed the whole log as one batch, folded in
    memory (:class:`_Folded`, the code ``apply`` folds a batch with), credited in memory
    (nothing is stored yet) and written once per table with COPY, keys and indexes built
    after the rows (:func:`shared.projections.bulk.load_tables`)."""

    def __init__(self, version: int) -> None:
        self.folded = _Folded(version)

    @collector_paused  # hundreds of thousands of lines and tuples kept, no cycles
    def fold(self, events: Sequence[RecordedEvent]) -> None:
        self.folded.add(events)

    def credit(self) -> None:
        """The tactic of each outcome, as :meth:`CapitalProjection._credit` finds it when
        the table holds nothing yet: the linked action's, or the latest standing action of
        the person in the 14 days before (a binary search of the person's actions by time,
        not a scan of all of them per outcome)."""
        folded = self.folded
        retracted_at, outcomes, row_of = folded.retracted_at, folded.outcomes, folded.row_of
        actions = folded.actions
        by_person: dict[str, list[tuple[datetime, int, str, str]]] = {}
        if any(not action for _, _, _, action, _ in folded.pending):
            for person, at, pos, kind, ref in actions:
                mine = by_person.get(person)
                if mine is None:
                    by_person[person] = [(at, pos, kind, ref)]
                else:
                    mine.append((at, pos, kind, ref))
        by_time: dict[str, tuple[list[datetime], list[tuple[datetime, int, str, str]]]] = {}
        for index, position, person, action, occurred_at in folded.pending:
            if action:
                found_at = row_of.get(action)
                standing = retracted_at.get(action, position + 1) > position
                linked = None if found_at is None else actions[found_at][3]
                outcomes[index][5] = linked if standing else None
                continue
            found = by_time.get(person)
            if found is None:
                mine = sorted(by_person.get(person, ()))
                found = by_time[person] = ([a[0] for a in mine], mine)
            times, mine = found
            window = occurred_at - CREDIT_WINDOW
            tactic: str | None = None
            # (at, position) descending: the first standing action appended before the
            # outcome is the latest one, what max() over all candidates picks.
            i = bisect_right(times, occurred_at) - 1
            while i >= 0 and times[i] >= window:
                _, pos, candidate, ref = mine[i]
                if pos < position and retracted_at.get(ref, position + 1) > position:
                    tactic = candidate
                    break
                i -= 1
            outcomes[index][5] = tactic

    @collector_paused
    def flush(self, conn: Connection, tables: Mapping[str, str]) -> None:
        folded = self.folded
        self.credit()
        dropped = folded.dropped()
        version = folded.version
        tenants = folded.tenants

        def write() -> None:
            copy_lines(
                pg,
                tables["capital_weeks"],
                WEEK_COLUMNS,
                (
                    f"{tenants[person]}\t{person}\t{week}\t{s[0]}\t{s[1]}\t{s[2]}\t{s[3]}\t"
                    f"{s[4]}\t{s[5]}\t{s[6]}\t{s[7]}\t{s[8]}\t{version}\n"
                    for (person, week), s in folded.weeks.items()
                ),
            )
            lines = folded.action_lines
            if dropped:
                lines = [line for i, line in enumerate(lines) if i not in dropped]
            copy_lines(
                pg,
                tables["capital_contributions"],
                CONTRIBUTION_COLUMNS,
                lines,
                folded.outcome_lines(),
            )

        pg = as_psycopg(conn)
        load_tables(pg, tables, CapitalProjection.indexes, write)


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
