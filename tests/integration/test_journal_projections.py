"""The journal read models on real PostgreSQL: experiments (with a worked comparison),
the feedback loop, weekly plan progress, erasure, and incremental == one pass."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from shared.domain.tactics import OUTCOME_KINDS, TACTICS
from shared.eventlog import AppendContext, EventStore, NewEvent
from shared.projections import runtime
from shared.projections.capital import CapitalProjection
from shared.projections.journal import (
    ExperimentsProjection,
    FeedbackLoopProjection,
    PlanProgressProjection,
    plan_progress,
    read_experiments,
    read_feedback,
    read_plan,
)
from shared.projections.runtime import Projection, Runtime
from tests.integration.isolated_projections import isolated as isolated_projection

pytestmark = pytest.mark.integration

JOURNAL = ("experiments", "feedback_loop", "plan_progress")
JOURNAL_TABLES = {
    base: projection
    for projection in (ExperimentsProjection, FeedbackLoopProjection, PlanProgressProjection)
    for base in projection.tables
}


def at(day: str, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


def outcome(person: uuid.UUID, kind: str, when: datetime) -> NewEvent:
    data = {"outcome_id": str(uuid.uuid4()), "person_id": str(person), "kind": kind}
    return NewEvent("OutcomeRecorded", {**data, "action_id": None, "note": "a personal note"}, when)


def answer(person: uuid.UUID, request: str, useful: bool, when: datetime) -> NewEvent:
    data = {"request_id": request, "person_id": str(person), "useful": useful}
    return NewEvent("FeedbackGiven", {**data, "comment": "comment-secret"}, when)


def asked(person: uuid.UUID, request: str, when: datetime, action: str | None = None) -> NewEvent:
    data = {"request_id": request, "person_id": str(person), "action_id": action}
    expires = (when + timedelta(days=14)).isoformat()
    return NewEvent(
        "FeedbackRequested", {**data, "question": "question-secret", "expires_at": expires}, when
    )


def started(person: uuid.UUID, experiment: str, starts_on: str, weeks: int = 4) -> NewEvent:
    return NewEvent(
        "ExperimentStarted",
        {
            "experiment_id": experiment,
            "person_id": str(person),
            "tactic": "regular_signaling",
            "weeks": weeks,
            "starts_on": starts_on,
            "hypothesis": "hypothesis-secret",
        },
        at(starts_on, 8),
    )


def ended(person: uuid.UUID, experiment: str, when: datetime) -> NewEvent:
    data = {"experiment_id": experiment, "person_id": str(person)}
    return NewEvent("ExperimentEnded", {**data, "reflection": "reflection-secret"}, when)


def action(person: uuid.UUID, tactic: str, when: datetime) -> NewEvent:
    return NewEvent(
        "MicroActionLogged",
        {
            "action_id": str(uuid.uuid4()),
            "person_id": str(person),
            "tactic": tactic,
            "minutes": 10,
            "audience": "private",
            "note": "note-secret",
        },
        when,
    )


def plan(person: uuid.UUID, week: str, tactics: list[str]) -> NewEvent:
    data = {"person_id": str(person), "week": week, "tactics": tactics}
    return NewEvent("WeeklyPlanSet", {**data, "labels": ["label-secret"] * len(tactics)})


def write(store: EventStore, tenant: uuid.UUID, person: uuid.UUID, *events: NewEvent) -> None:
    store.append(tenant, f"journal-{person}", None, list(events))


def project(store: EventStore) -> None:
    rt = runtime(store)
    for name in JOURNAL:
        rt.catch_up(name)


# -- experiments ---------------------------------------------------------------------------------


def test_experiment_compared_with_the_four_weeks_before(store: EventStore, tenant: uuid.UUID):
    """A worked example: an experiment from Monday 2 March 2026, for 4 weeks.

    Before = [2 Feb, 2 Mar), during = [2 Mar, 30 Mar), by each event's occurred_at:

    | signal          | before                   | during                       | diff |
    | invitations     | 2 Feb                    | 2 Mar, 10 Mar, 29 Mar        | +2 up |
    | useful feedback | 25 Feb (answer, useful)  | 15 Mar (outcome)             | 0 same |
    | assignments     | 20 Feb                   | -                            | -1 down |

    Not counted: an invitation on 1 Feb and one on 30 Mar (outside), a recognition, an
    answer that was not useful. The experiment ends early (20 Mar) and some signals arrive
    after it ended or before it started: the windows stay those of its dates.
    """
    person, experiment = uuid.uuid4(), str(uuid.uuid4())
    write(
        store,
        tenant,
        person,
        outcome(person, "invitation", at("2026-02-01", 23, 59)),
        outcome(person, "invitation", at("2026-02-02", 0, 0)),
        outcome(person, "assignment", at("2026-02-20")),
        answer(person, str(uuid.uuid4()), True, at("2026-02-25")),
        answer(person, str(uuid.uuid4()), False, at("2026-02-26")),
    )
    project(store)  # the signals before are projected before the experiment exists
    write(
        store,
        tenant,
        person,
        started(person, experiment, "2026-03-02"),
        outcome(person, "invitation", at("2026-03-02", 0, 0)),
        outcome(person, "recognition", at("2026-03-05")),
    )
    project(store)
    write(
        store,
        tenant,
        person,
        outcome(person, "invitation", at("2026-03-10")),
        ended(person, experiment, at("2026-03-20")),
        outcome(person, "useful_feedback", at("2026-03-15")),  # recorded after the end
        outcome(person, "invitation", at("2026-03-29", 23, 59)),
        outcome(person, "invitation", at("2026-03-30", 0, 0)),
    )
    project(store)

    with store.engine.connect() as conn:
        (row,) = read_experiments(conn, tenant, person)
    assert row["starts_on"] == date(2026, 3, 2) and row["ends_on"] == date(2026, 3, 30)
    assert row["status"] == "ended" and row["ended_at"] == at("2026-03-20")
    comparison = row["comparison"]
    assert comparison["before"] == {"starts_on": date(2026, 2, 2), "ends_on": date(2026, 3, 2)}
    assert comparison["invitations"] == {
        "before": 1,
        "during": 3,
        "difference": 2,
        "direction": "up",
    }
    assert comparison["useful_feedback"] == {
        "before": 1,
        "during": 1,
        "difference": 0,
        "direction": "same",
    }
    assert comparison["assignments"] == {
        "before": 1,
        "during": 0,
        "difference": -1,
        "direction": "down",
    }


def test_an_experiment_runs_until_ended_and_an_early_end_is_kept(
    store: EventStore, tenant: uuid.UUID
):
    person, first, second = uuid.uuid4(), str(uuid.uuid4()), str(uuid.uuid4())
    # An end appended before its start (an import out of order) still ends it.
    write(store, tenant, person, ended(person, second, at("2026-05-01")))
    write(
        store,
        tenant,
        person,
        started(person, first, "2026-04-06", weeks=2),
        started(person, second, "2026-04-13", weeks=1),
        ended(person, second, at("2026-05-02")),  # a second end: the first one wins
    )
    project(store)
    with store.engine.connect() as conn:
        rows = {str(r["experiment_id"]): r for r in read_experiments(conn, tenant, person)}
    assert rows[first]["status"] == "running" and rows[first]["ended_at"] is None
    assert rows[first]["ends_on"] == date(2026, 4, 20)
    assert rows[second]["status"] == "ended" and rows[second]["ended_at"] == at("2026-05-01")
    assert [str(r["experiment_id"]) for r in rows.values()] == [second, first]  # latest first


# -- the feedback loop ---------------------------------------------------------------------------


def test_feedback_loop_counts_and_rates(store: EventStore, tenant: uuid.UUID):
    person = uuid.uuid4()
    requests = [str(uuid.uuid4()) for _ in range(4)]
    action_id = str(uuid.uuid4())
    write(
        store,
        tenant,
        person,
        asked(person, requests[0], at("2026-06-01"), action_id),
        asked(person, requests[1], at("2026-06-02")),
        answer(person, requests[0], True, at("2026-06-03")),
    )
    project(store)
    write(
        store,
        tenant,
        person,
        answer(person, requests[1], False, at("2026-06-04")),
        answer(person, requests[1], True, at("2026-06-05")),  # a second answer: ignored
        answer(person, requests[3], True, at("2026-06-06")),  # its request comes later
    )
    project(store)  # a batch of answers alone
    with store.engine.connect() as conn:
        partial = read_feedback(conn, tenant, person)
    assert (partial["requests"], partial["answers"], partial["useful"]) == (2, 2, 1)
    write(
        store,
        tenant,
        person,
        asked(person, requests[2], at("2026-06-07")),
        asked(person, requests[3], at("2026-06-05")),
    )
    project(store)

    with store.engine.connect() as conn:
        loop = read_feedback(conn, tenant, person)
    assert (loop["requests"], loop["answers"], loop["useful"]) == (4, 3, 2)
    assert loop["response_rate"] == 0.75 and loop["usefulness_rate"] == 0.6667
    items = {str(item["request_id"]): item for item in loop["items"]}
    first = items[requests[0]]
    assert str(first["action_id"]) == action_id and first["useful"] is True
    assert first["asked_at"] == at("2026-06-01") and first["answered_at"] == at("2026-06-03")
    assert first["expires_at"] == at("2026-06-15")
    assert items[requests[1]]["useful"] is False  # the first answer wins
    assert items[requests[2]]["answered_at"] is None and items[requests[2]]["useful"] is None
    assert [str(i["request_id"]) for i in loop["items"]] == [
        requests[2],
        requests[3],
        requests[1],
        requests[0],
    ]


def test_no_feedback_yet_has_no_rates(store: EventStore, tenant: uuid.UUID):
    with store.engine.connect() as conn:
        loop = read_feedback(conn, tenant, uuid.uuid4())
    assert loop == {
        "requests": 0,
        "answers": 0,
        "useful": 0,
        "response_rate": None,
        "usefulness_rate": None,
        "items": [],
    }


# -- weekly plan progress ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tactics", "actions", "done"),
    [
        (["learning_bit"], {}, [False]),
        (["learning_bit", "learning_bit"], {"learning_bit": 1}, [True, False]),
        (["a", "b", "a"], {"a": 2, "b": 5}, [True, True, True]),
        (["a", "b", "a"], {"a": 1, "c": 3}, [True, False, False]),
    ],
)
def test_plan_progress_counts_each_planned_item_once(
    tactics: list[str], actions: dict[str, int], done: list[bool]
):
    assert plan_progress(tactics, actions) == done


def test_weekly_plan_progress(store: EventStore, tenant: uuid.UUID):
    """Week 2026-W10 runs from Monday 2 March to Sunday 8 March (UTC)."""
    person, week = uuid.uuid4(), "2026-W10"
    write(
        store,
        tenant,
        person,
        action(person, "learning_bit", at("2026-03-02", 0, 0)),  # before the plan was set
        plan(person, week, ["small_exposure"]),
        action(person, "learning_bit", at("2026-03-01", 23, 59)),  # the week before
    )
    project(store)
    write(
        store,
        tenant,
        person,
        plan(person, week, ["learning_bit", "learning_bit", "network_nudge", "small_exposure"]),
        action(person, "network_nudge", at("2026-03-04")),
        action(person, "relationship_deposit", at("2026-03-05")),  # not planned
        action(person, "learning_bit", at("2026-03-08", 23, 59)),
        action(person, "small_exposure", at("2026-03-09", 0, 0)),  # the week after
    )
    project(store)
    with store.engine.connect() as conn:
        progress = read_plan(conn, tenant, person, week)
    assert [(i["tactic"], i["done"]) for i in progress["items"]] == [
        ("learning_bit", True),
        ("learning_bit", True),
        ("network_nudge", True),
        ("small_exposure", False),
    ]
    assert (progress["planned"], progress["done"]) == (4, 3)
    assert progress["actions"] == {"learning_bit": 2, "network_nudge": 1, "relationship_deposit": 1}

    write(store, tenant, person, plan(person, week, ["learning_bit"] * 3))  # the latest wins
    project(store)
    with store.engine.connect() as conn:
        progress = read_plan(conn, tenant, person, week)
        empty = read_plan(conn, tenant, person, "2026-W11")
    assert [i["done"] for i in progress["items"]] == [True, True, False]
    assert (empty["planned"], empty["items"], empty["actions"]) == (0, [], {"small_exposure": 1})


def test_reads_are_scoped_by_tenant_and_person(store: EventStore, tenant: uuid.UUID):
    person, other_tenant = uuid.uuid4(), uuid.uuid4()
    write(store, tenant, person, plan(person, "2026-W12", ["learning_bit"]))
    write(store, tenant, person, started(person, str(uuid.uuid4()), "2026-03-16"))
    project(store)
    with store.engine.connect() as conn:
        assert read_plan(conn, tenant, person, "2026-W12")["planned"] == 1
        assert read_plan(conn, other_tenant, person, "2026-W12")["planned"] == 0
        assert read_plan(conn, tenant, uuid.uuid4(), "2026-W12")["planned"] == 0
        assert len(read_experiments(conn, tenant, person)) == 1
        assert read_experiments(conn, other_tenant, person) == []


# -- personal data -------------------------------------------------------------------------------


def tenant_rows(store: EventStore, tenant: uuid.UUID, suffix: str = "") -> dict[str, list[Any]]:
    out = {}
    with store.engine.connect() as conn:
        for base in JOURNAL_TABLES:
            query = text(f"SELECT * FROM {base}{suffix} WHERE tenant_id = :t")
            out[base] = sorted(tuple(row) for row in conn.execute(query, {"t": tenant}))
    return out


def test_no_personal_text_is_stored_and_erasure_keeps_the_numbers(
    store: EventStore, tenant: uuid.UUID
):
    person, request, experiment = uuid.uuid4(), str(uuid.uuid4()), str(uuid.uuid4())
    write(
        store,
        tenant,
        person,
        started(person, experiment, "2026-07-06"),
        asked(person, request, at("2026-07-07")),
        answer(person, request, True, at("2026-07-08")),
        plan(person, "2026-W28", ["learning_bit"]),
        action(person, "learning_bit", at("2026-07-09")),
        ended(person, experiment, at("2026-07-10")),
    )
    project(store)
    before = tenant_rows(store, tenant)
    assert all(before.values()), before
    assert "secret" not in repr(before)
    with store.engine.connect() as conn:  # no column that could hold text of a person
        columns = conn.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_name = ANY(:t) AND data_type IN ('text', 'character varying', "
                "'jsonb', 'json', 'bytea')"
            ),
            {"t": list(JOURNAL_TABLES)},
        ).all()
    assert {c.column_name for c in columns} <= {"tactic", "status", "week", "tactics"} | {
        f"{s}_direction" for s in ("invitations", "useful_feedback", "assignments")
    }

    store.erase(tenant, person, AppendContext(actor="test", source="test"))
    project(store)
    assert tenant_rows(store, tenant) == before


# -- incremental == one pass ---------------------------------------------------------------------


class SimulatedCrash(BaseException):
    """A worker dying mid-batch: not an error of the projection, so not a poison event."""


def isolated(base: Projection, suffix: str, rng: random.Random | None = None) -> Projection:
    """``base`` under its own name and tables, crashing after some batches when given ``rng``."""

    def maybe_crash() -> None:
        if rng is not None and rng.random() < 0.3:
            raise SimulatedCrash()

    return isolated_projection(base, suffix, maybe_crash)


def random_history(rng: random.Random, people: list[uuid.UUID]) -> list[tuple[uuid.UUID, NewEvent]]:
    """Events of every journal kind, over 12 weeks, appended in an order unlike their times."""
    start = datetime(2026, 1, 5, tzinfo=UTC)

    def when() -> datetime:
        return start + timedelta(minutes=rng.randrange(12 * 7 * 24 * 60))

    tactics = sorted(TACTICS)
    experiments: list[str] = []
    requests: list[str] = []
    history = []
    for _ in range(50):
        person = rng.choice(people)
        kind = rng.randrange(7)
        if kind == 0:
            experiments.append(str(uuid.uuid4()))
            day = (start + timedelta(days=rng.randrange(70))).date().isoformat()
            event = started(person, experiments[-1], day, rng.randint(1, 6))
        elif kind == 1 and experiments:
            event = ended(person, rng.choice(experiments), when())
        elif kind == 2:
            requests.append(str(uuid.uuid4()))
            event = asked(person, requests[-1], when())
        elif kind == 3 and requests:  # sometimes twice, sometimes before the request
            event = answer(person, rng.choice(requests), rng.random() < 0.6, when())
        elif kind == 4:
            week = f"2026-W{rng.randint(2, 13):02d}"
            event = plan(person, week, [rng.choice(tactics[:3]) for _ in range(rng.randint(1, 6))])
        elif kind == 5:
            event = outcome(person, rng.choice(OUTCOME_KINDS), when())
        else:
            event = action(person, rng.choice(tactics[:3]), when())
        history.append((person, event))
    rng.shuffle(history)
    return history


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_with_crashes_equals_one_pass(store: EventStore, seed: int):
    rng = random.Random(seed)
    tenant, people = uuid.uuid4(), [uuid.uuid4() for _ in range(2)]
    suffix = uuid.uuid4().hex[:8]
    pairs = [
        (isolated(base, f"i{suffix}", rng), isolated(base, f"r{suffix}"))
        for base in (ExperimentsProjection(), FeedbackLoopProjection(), PlanProgressProjection())
    ]
    everything = [p for pair in pairs for p in pair]
    Runtime(store, everything).ensure()
    with store.engine.begin() as conn:  # start at the head: this history alone is projected
        conn.execute(
            text("UPDATE projections SET position = :h WHERE name = ANY(:n)"),
            {"h": store.head(), "n": [p.name for p in everything]},
        )
    for person, event in random_history(rng, people):
        write(store, tenant, person, event)

    for incremental, one_pass in pairs:
        while True:
            rt = Runtime(store, [incremental], batch=rng.randint(1, 7))
            try:
                rt.catch_up(incremental.name, max_batches=1)
            except SimulatedCrash:
                continue  # the worker died mid-batch; the next one starts at the checkpoint
            if next(s for s in rt.status() if s.name == incremental.name).lag_events == 0:
                break
        Runtime(store, [one_pass], batch=100_000).catch_up(one_pass.name)

    incremental_rows = tenant_rows(store, tenant, f"_i{suffix}")
    assert incremental_rows == tenant_rows(store, tenant, f"_r{suffix}")
    assert all(incremental_rows.values()), incremental_rows  # every table has rows


@pytest.mark.parametrize("seed", [4, 5])
def test_longer_histories_in_batches_equal_one_pass(store: EventStore, seed: int):
    """Several people, a few hundred events: batches of up to 40 events often hold a request
    and its answer, a plan and its week's actions, an experiment and its signals together."""
    rng = random.Random(seed)
    tenant, people = uuid.uuid4(), [uuid.uuid4() for _ in range(3)]
    suffix = uuid.uuid4().hex[:8]
    pairs = [
        (isolated(base, f"i{suffix}"), isolated(base, f"r{suffix}"))
        for base in (ExperimentsProjection(), FeedbackLoopProjection(), PlanProgressProjection())
    ]
    everything = [p for pair in pairs for p in pair]
    Runtime(store, everything).ensure()
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE projections SET position = :h WHERE name = ANY(:n)"),
            {"h": store.head(), "n": [p.name for p in everything]},
        )
    history = [entry for _ in range(5) for entry in random_history(rng, people)]
    written = 0
    while written < len(history):  # appends and catch-ups interleaved
        size = rng.randint(1, 60)
        for person, event in history[written : written + size]:
            write(store, tenant, person, event)
        written += size
        for incremental, _ in pairs:
            Runtime(store, [incremental], batch=rng.randint(1, 40)).catch_up(incremental.name)
    for _, one_pass in pairs:
        Runtime(store, [one_pass], batch=100_000).catch_up(one_pass.name)

    incremental_rows = tenant_rows(store, tenant, f"_i{suffix}")
    assert incremental_rows == tenant_rows(store, tenant, f"_r{suffix}")
    assert all(incremental_rows.values()), incremental_rows


def with_retractions(
    rng: random.Random, history: list[tuple[uuid.UUID, NewEvent]]
) -> list[tuple[uuid.UUID, NewEvent]]:
    """``history`` with a third of its actions undone (``MicroActionRetracted``), each some
    events after it was logged."""
    out = list(history)
    for person, event in history:
        if event.type == "MicroActionLogged" and rng.random() < 0.33:
            undo = {k: event.data[k] for k in ("action_id", "person_id", "tactic", "minutes")}
            retraction = NewEvent(
                "MicroActionRetracted", {**undo, "audience": event.data["audience"]},
                event.occurred_at,
            )  # fmt: skip
            logged = next(i for i, (_, e) in enumerate(out) if e is event)
            out.insert(rng.randint(logged + 1, len(out)), (person, retraction))
    return out


def projected_rows(
    store: EventStore, projections: list[Projection], tenant: uuid.UUID
) -> dict[str, list[Any]]:
    """Each table of ``projections`` (isolated: by its base name), the tenant's rows."""
    out = {}
    with store.engine.connect() as conn:
        for projection in projections:
            for table in projection.tables:
                query = text(f"SELECT * FROM {table} WHERE tenant_id = :t")
                rows = sorted((tuple(r) for r in conn.execute(query, {"t": tenant})), key=repr)
                out[table.rsplit("_", 1)[0]] = rows
    return out


@pytest.mark.parametrize("seed", [6, 7, 8])
def test_a_rebuild_folds_the_rows_of_small_batches(store: EventStore, seed: int):
    """A rebuild folds the whole log in memory and COPYs each table once (each projection's
    ``begin_rebuild``); its rows equal those of incremental batches of 1 to 7 events with
    crashes between them, for the journal projections and capital, retractions included."""
    rng = random.Random(seed)
    tenant, people = uuid.uuid4(), [uuid.uuid4() for _ in range(3)]
    suffix = uuid.uuid4().hex[:8]
    bases: list[Projection] = [
        CapitalProjection(), ExperimentsProjection(), FeedbackLoopProjection(),
        PlanProgressProjection(),
    ]  # fmt: skip
    incremental = [isolated(base, f"i{suffix}", rng) for base in bases]
    rebuilt = [isolated(base, f"f{suffix}") for base in bases]
    assert all(hasattr(p, "begin_rebuild") for p in rebuilt)
    Runtime(store, incremental).ensure()
    with store.engine.begin() as conn:  # start at the head: this history alone is projected
        conn.execute(
            text("UPDATE projections SET position = :h WHERE name = ANY(:n)"),
            {"h": store.head(), "n": [p.name for p in incremental]},
        )
    history = [entry for _ in range(3) for entry in random_history(rng, people)]
    for person, event in with_retractions(rng, history):
        write(store, tenant, person, event)

    for projection in incremental:
        while True:
            rt = Runtime(store, [projection], batch=rng.randint(1, 7))
            try:
                rt.catch_up(projection.name, max_batches=1)
            except SimulatedCrash:
                continue
            if next(s for s in rt.status() if s.name == projection.name).lag_events == 0:
                break
    Runtime(store, rebuilt).rebuild_many([p.name for p in rebuilt])

    expected = projected_rows(store, incremental, tenant)
    assert projected_rows(store, rebuilt, tenant) == expected
    # every table has rows (capital's pending links only while an outcome awaits its action;
    # requests naming an action and absences come from the contract suite's histories)
    sometimes_empty = {"capital_pending_links", "capital_requests", "capital_absences"}
    assert all(v for t, v in expected.items() if t not in sometimes_empty), expected


def test_actions_after_the_plan_update_its_progress(store: EventStore, tenant: uuid.UUID):
    """The plan in one batch, its week's actions in later ones: each batch updates the done
    items (the actions of the week before count for that week's plan, set later)."""
    person, week = uuid.uuid4(), "2026-W20"
    write(store, tenant, person, plan(person, week, ["learning_bit", "small_exposure"] * 2))
    project(store)
    write(store, tenant, person, action(person, "small_exposure", at("2026-05-12")))
    project(store)
    with store.engine.connect() as conn:
        progress = read_plan(conn, tenant, person, week)
    assert [i["done"] for i in progress["items"]] == [False, True, False, False]
    write(
        store,
        tenant,
        person,
        plan(person, "2026-W19", ["learning_bit"]),
        action(person, "learning_bit", at("2026-05-11", 0, 0)),
        action(person, "learning_bit", at("2026-05-17", 23, 59)),
        action(person, "small_exposure", at("2026-05-10", 23, 59)),  # the week before
    )
    project(store)
    with store.engine.connect() as conn:
        progress = read_plan(conn, tenant, person, week)
        before = read_plan(conn, tenant, person, "2026-W19")
    assert [i["done"] for i in progress["items"]] == [True, True, True, False]
    assert (progress["planned"], progress["done"]) == (4, 3)
    assert progress["actions"] == {"learning_bit": 2, "small_exposure": 1}
    assert (before["planned"], before["done"], before["actions"]) == (1, 0, {"small_exposure": 1})
