"""The projection contract with poison events: every registered projection, fed a generated
history of which some events cannot be applied (nor folded by its rebuild), quarantines the
same tenants at the same events, holds back the same events and keeps the same rows whether
it caught up in random batches (with crashes and partitions), in one pass, or was rebuilt
from the log in chunks (shared/projections/quarantine.py: rebuild equals catch-up,
quarantine included)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import event, given, settings

from shared.eventlog import EventStore, RecordedEvent
from shared.projections import PROJECTIONS, Projection
from tests.contract.contract import check
from tests.contract.histories import Write, histories
from tests.contract.test_projection_contract import CONTRACT_SETTINGS, EXAMPLES, catch_up_plans

pytestmark = pytest.mark.integration


def one_in_four(e: RecordedEvent) -> bool:
    """About one event in four is a poison event, picked by its id (the same every time the
    event is read, whatever the batch): several tenants of a history wait, some not."""
    return e.event_id_text[-1] in "048c"


@pytest.mark.parametrize("registered", PROJECTIONS, ids=lambda p: p.name)
@settings(CONTRACT_SETTINGS, max_examples=max(1, EXAMPLES // 2))
@given(history=histories(), plan=catch_up_plans())
def test_poison_events_quarantine_alike_in_batches_one_pass_and_rebuild(
    contract_store: EventStore,
    registered: Projection,
    history: list[Write],
    plan: dict[str, Any],
) -> None:
    check(contract_store, registered, history, plan, note=event, poison=one_in_four)
