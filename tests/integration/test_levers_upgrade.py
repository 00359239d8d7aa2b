"""Migration 0022 on a database where the levers already run: the live generation gains the
columns of confirmed behaviour with defaults that read history as before; catch-up then
applies new confirmations (to a stretch task, to a reward), and a rebuild agrees."""

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

DROPPED = {
    "lever_rewards": ("named", "confirmed"),
    "lever_actions": ("declined", "reward_confirmed"),
    "lever_person_weeks": ("confirmed_rewarded",),
    "lever_team_weeks": ("confirmed_rewarded_actions",),
}
"""The columns 0022 adds, per table."""


@pytest.fixture
def upgrade_store(postgres_server_url: str, master_key: str) -> Iterator[EventStore]:
    with fresh_store(postgres_server_url, master_key, "compound_levers_upgrade") as store:
        yield store


def test_the_upgrade_adds_confirmed_behaviour_to_the_live_generation(
    upgrade_store: EventStore,
) -> None:
    store, tenant, person, colleague = upgrade_store, uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    action_id, outcome_id = str(uuid.uuid4()), str(uuid.uuid4())
    joined = {"person_id": str(person), "display_name": "X", "time_zone": "UTC"}
    invited = {"person_id": str(person), "email": "x@levers.test", "role": "employee"}
    logged = {"action_id": action_id, "person_id": str(person), "tactic": "small_exposure",
              "minutes": 15, "audience": "team", "note": None,
              "counterpart_id": str(colleague)}  # fmt: skip
    outcome = {"outcome_id": outcome_id, "person_id": str(person), "kind": "invitation",
               "action_id": None, "note": None, "confirmer_id": str(colleague)}  # fmt: skip
    people = [NewEvent("PersonInvited", invited, start), NewEvent("PersonJoined", joined, start)]
    store.append(tenant, f"person-{person}", None, people)
    journal = f"journal-{person}"
    store.append(tenant, journal, None, [NewEvent("MicroActionLogged", logged, start),
                 NewEvent("OutcomeRecorded", outcome, start + timedelta(days=2))])  # fmt: skip
    rt = runtime(store)
    rt.ensure()
    rt.catch_up("levers")
    script = ScriptDirectory.from_config(alembic_config(store.engine))
    before = script.get_revision("0022").down_revision  # the coordinator may re-chain it
    with store.engine.begin() as conn:  # the release before: the schema before 0022
        # ... and its rows: every reward counted, confirmer or not
        conn.execute(text("UPDATE lever_actions__g1 SET rewarded = true"))
        conn.execute(text("UPDATE lever_person_weeks__g1 SET rewarded = 1"))
        for table, columns in DROPPED.items():
            conn.execute(text(f"DROP VIEW {table}"))
            drops = ", ".join(f"DROP COLUMN {c}" for c in columns)
            conn.execute(text(f"ALTER TABLE {table}__g1 {drops}"))
            conn.execute(text(f"CREATE VIEW {table} AS SELECT * FROM {table}__g1"))
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": before})
    upgrade(store.engine, "0022")
    assert current_revision(store.engine) == "0022"

    def stored() -> tuple[object, ...]:
        with store.engine.connect() as conn:
            return tuple(
                conn.execute(
                    text(
                        "SELECT stretch, rewarded, confirmed_rewarded FROM lever_person_weeks "
                        "WHERE person_id = :p"
                    ),
                    {"p": person},
                ).one()
            )

    assert stored() == (1, 1, 0)  # as before the upgrade: every reward self-reported
    rt.rebuild("levers")
    assert stored() == (1, 0, 0)  # history with the rule: the invitation awaits its confirmer
    answers = [
        NewEvent("ActionConfirmed", {"action_id": action_id, "person_id": str(person),
                                     "confirmed": False}, start + timedelta(days=3)),
        NewEvent("OutcomeConfirmed", {"outcome_id": outcome_id, "person_id": str(person),
                                      "confirmed": True}, start + timedelta(days=3)),
    ]  # fmt: skip
    store.append(tenant, journal, None, answers)
    rt.catch_up("levers")
    assert stored() == (0, 1, 1)  # the stretch task declined, the invitation confirmed
    rt.rebuild("levers")
    assert stored() == (0, 1, 1)
    upgrade(store.engine, "0022")  # again: nothing to do
