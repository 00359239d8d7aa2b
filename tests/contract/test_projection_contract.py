"""The projection contract: every registered projection, fed one generated history, holds the
same rows whether it caught up in random batches (with crashes, partitions, and catch-ups
while the history was being written), in one pass, or was rebuilt from the log (after a
rebuild that crashed). Like the ``eventsourcing`` library's one recorder suite run for each
backend: a new projection is held to it by being registered in ``shared.projections``.

The histories (tests/contract/histories.py): several tenants, people joining, moving and
leaving teams, micro-actions and their retractions, outcomes, plans, experiments, feedback
(answers sometimes before their requests, as an import writes them), pulses, meetings
observed, moved and cancelled, working hours, keyed writes retried, writes rolled back,
imports out of order and sent twice, and erasure. Real PostgreSQL, a database of the suite's
own (conftest.py); ``COMPOUND_CONTRACT_EXAMPLES`` examples per projection (default 6).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from shared.eventlog import EventStore
from shared.projections import PROJECTIONS, Projection
from tests.contract.contract import check, check_rebuilt_together
from tests.contract.histories import Write, histories

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("COMPOUND_CONTRACT_EXAMPLES", "6"))
CONTRACT_SETTINGS = settings(
    deadline=None,
    # No shrinking (each example writes to a real database; the failing one is printed as
    # drawn) and no example database (a replayed example would reuse no ids anyway).
    phases=[Phase.explicit, Phase.generate],
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""How every contract test runs its examples (each sets its ``max_examples``)."""


@st.composite
def catch_up_plans(draw: st.DrawFn) -> dict[str, Any]:
    """How the batched copy catches up: batch sizes (cycled), partitions, each partition on
    its own or all together, a crash rate, and how often it catches up during the writes
    (0: only once everything is written); and the rebuild's chunk size."""
    return {
        "batches": draw(st.lists(st.integers(1, 9), min_size=1, max_size=4)),
        "partitions": draw(st.integers(1, 3)),
        "per_partition": draw(st.booleans()),
        "crash_rate": draw(st.sampled_from([0.0, 0.25, 0.5])),
        "seed": draw(st.integers(0, 2**16)),
        "live_every": draw(st.sampled_from([0, 2, 5, 12])),
        # the rebuild's chunks: a few events (many chunks), or the whole log in one
        "chunk_events": draw(st.sampled_from([1, 5, 40, 1_000_000])),
    }


@pytest.mark.parametrize("registered", PROJECTIONS, ids=lambda p: p.name)
@settings(CONTRACT_SETTINGS, max_examples=EXAMPLES)
@given(history=histories(), plan=catch_up_plans())
def test_batches_one_pass_and_rebuild_give_the_same_rows(
    contract_store: EventStore,
    registered: Projection,
    history: list[Write],
    plan: dict[str, Any],
) -> None:
    check(contract_store, registered, history, plan, note=event)


@settings(CONTRACT_SETTINGS, max_examples=max(1, EXAMPLES // 2))
@given(history=histories())
def test_every_projection_rebuilt_in_one_pass_together(
    contract_store: EventStore, history: list[Write]
) -> None:
    """``compound projections rebuild --all`` rebuilds them all in one read of the log."""
    check_rebuilt_together(contract_store, list(PROJECTIONS), history)


def test_every_registered_projection_is_held_to_the_contract() -> None:
    """The suite runs over the registry itself: names are unique, so is every table."""
    names = [p.name for p in PROJECTIONS]
    tables = [t for p in PROJECTIONS for t in p.tables]
    assert len(set(names)) == len(names) and len(set(tables)) == len(tables)
