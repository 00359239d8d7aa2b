"""``read_capital`` scores in the model's units: the read model keeps integer millionths."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime

import pytest

from shared.commands import Actor, JournalCommands
from shared.domain import scoring
from shared.eventlog import EventStore
from shared.projections import runtime
from shared.projections.capital import read_capital

pytestmark = pytest.mark.integration


def test_one_action_scores_what_the_model_says(store: EventStore, tenant: uuid.UUID):
    actor = Actor(tenant_id=tenant, person_id=uuid.uuid4(), source="test")
    JournalCommands(store, "secret").log_action(actor, "learning_bit", 15, "private")
    rt = runtime(store)
    rt.ensure()
    rt.catch_up("capital")
    with store.engine.connect() as conn:
        capital = read_capital(conn, tenant, actor.person_id, datetime.now(UTC).date())
    invested = 2 * scoring.effort(15)  # learning_bit: C 2, R 0.5
    expected = round(100 * (1 - math.exp(-invested / scoring.SATURATION)), 1)
    assert capital["scores"]["capability"]["value"] == expected == 3.1
    assert capital["scores"]["visibility"]["value"] == 0.0
    assert capital["history"][-1]["capability"] == expected
