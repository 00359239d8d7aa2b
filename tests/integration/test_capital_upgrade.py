"""Migration 0014 on a database where capital already runs: the live generation gains
``capital_pending_links`` holding exactly the outcomes that wait for their action, and
catch-up credits them once the action is logged."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from infra.migrate import alembic_config, current_revision, upgrade
from shared.eventlog import EventStore, NewEvent
from shared.projections import runtime
from tests.databases import fresh_store

pytestmark = pytest.mark.integration


@pytest.fixture
def upgrade_store(postgres_server_url: str, master_key: str) -> Iterator[EventStore]:
    with fresh_store(postgres_server_url, master_key, "compound_upgrade") as store:
        yield store


def test_the_upgrade_adds_the_waiting_outcomes_of_the_live_generation(
    upgrade_store: EventStore,
) -> None:
    store, tenant, person = upgrade_store, uuid.uuid4(), uuid.uuid4()
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    logged_id, later_id = str(uuid.uuid4()), str(uuid.uuid4())

    def action(action_id: str, tactic: str) -> NewEvent:
        data = {"action_id": action_id, "person_id": str(person), "tactic": tactic,
                "minutes": 15, "audience": "team", "note": None}  # fmt: skip
        return NewEvent("MicroActionLogged", data, start)

    def outcome(action_id: str) -> NewEvent:
        data = {"outcome_id": str(uuid.uuid4()), "person_id": str(person),
                "kind": "recognition", "action_id": action_id, "note": None}  # fmt: skip
        return NewEvent("OutcomeRecorded", data, start + timedelta(days=1))

    stream = f"journal-{person}"
    store.append(tenant, stream, None, [action(logged_id, "learning_bit"), outcome(logged_id)])
    waiting = store.append(tenant, stream, None, [outcome(later_id)])
    rt = runtime(store)
    rt.ensure()
    rt.catch_up("capital")

    # The release before: no such table in the live generation, the schema at 0013.
    with store.engine.begin() as conn:
        conn.execute(text("DROP VIEW capital_pending_links"))
        conn.execute(text("DROP TABLE capital_pending_links__g1"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0013'"))
    upgrade(store.engine, "0014")
    assert current_revision(store.engine) == "0014"

    with store.engine.connect() as conn:
        pending = conn.execute(text("SELECT event_id, action_id FROM capital_pending_links"))
        assert [(str(r.event_id), str(r.action_id)) for r in pending] == [
            (str(waiting.event_ids[0]), later_id)
        ]

    store.append(tenant, stream, None, [action(later_id, "network_nudge")])
    rt.catch_up("capital")
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM capital_pending_links")).scalar() == 0
        credited = conn.execute(
            text("SELECT tactic FROM capital_contributions WHERE event_id = :e"),
            {"e": waiting.event_ids[0]},
        ).scalar_one()
    assert credited == "network_nudge"
    upgrade(store.engine, "0014")  # again: nothing to do, nothing changes
    assert current_revision(store.engine) == "0014"


def test_the_model_2_upgrade_adds_evidence_to_the_live_generation(
    upgrade_store: EventStore,
) -> None:
    """Migration 0017 on a database at the revision before it: the live generation's
    contributions gain the columns model 2 reads (minutes and audience filled from the
    log), ``capital_requests`` and ``capital_absences`` exist, catch-up keeps
    confirmations, and a rebuild recomputes the same rows."""
    store, tenant, person = upgrade_store, uuid.uuid4(), uuid.uuid4()
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    action_id = str(uuid.uuid4())
    logged = {"action_id": action_id, "person_id": str(person), "tactic": "learning_bit",
              "minutes": 25, "audience": "decision_makers", "note": None}  # fmt: skip
    stream = f"journal-{person}"
    store.append(tenant, stream, None, [NewEvent("MicroActionLogged", logged, start)])
    rt = runtime(store)
    rt.ensure()
    rt.catch_up("capital")
    script = ScriptDirectory.from_config(alembic_config(store.engine))
    before = script.get_revision("0017").down_revision  # the coordinator may re-chain it
    with store.engine.begin() as conn:  # the release before: the schema before 0017
        for view in ("capital_contributions", "capital_requests", "capital_absences"):
            conn.execute(text(f"DROP VIEW {view}"))
        conn.execute(text("DROP TABLE capital_requests__g1, capital_absences__g1"))
        conn.execute(
            text(
                "ALTER TABLE capital_contributions__g1 DROP COLUMN minutes, DROP COLUMN audience, "
                "DROP COLUMN counterpart_id, DROP COLUMN confirmed"
            )
        )
        conn.execute(
            text("CREATE VIEW capital_contributions AS SELECT * FROM capital_contributions__g1")
        )
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": before})
        # the release before stored an action's behaviour in plaintext (sealing came later);
        # the append-only trigger is left out for this one rewrite of the past
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(
            text(
                "UPDATE events SET seal = NULL, data = data || jsonb_build_object("
                "'tactic', 'learning_bit', 'minutes', 25, 'audience', 'decision_makers') "
                "WHERE stream_id = :s AND type = 'MicroActionLogged'"
            ),
            {"s": stream},
        )
        conn.execute(text("SET LOCAL session_replication_role = DEFAULT"))
    upgrade(store.engine, "0017")
    assert current_revision(store.engine) == "0017"

    def stored() -> list[tuple[object, ...]]:
        with store.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT ref_id::text, minutes, audience, confirmed FROM capital_contributions "
                    "WHERE person_id = :p"
                ),
                {"p": person},
            )
            return [tuple(r) for r in rows]

    assert stored() == [(action_id, 25, "decision_makers", False)]
    confirmed = {"action_id": action_id, "person_id": str(person), "confirmed": True}
    away = {"absence_id": str(uuid.uuid4()), "person_id": str(person),
            "starts_on": "2026-03-09", "ends_on": "2026-03-13"}  # fmt: skip
    store.append(
        tenant,
        stream,
        None,
        [NewEvent("ActionConfirmed", confirmed, start), NewEvent("AbsenceDeclared", away, start)],
    )
    rt.catch_up("capital")
    assert stored() == [(action_id, 25, "decision_makers", True)]
    rt.rebuild("capital")
    assert stored() == [(action_id, 25, "decision_makers", True)]
    with store.engine.connect() as conn:
        absences = conn.execute(text("SELECT count(*) FROM capital_absences")).scalar()
    assert absences == 1
    upgrade(store.engine, "0017")  # again: nothing to do
