"""An import runs with the cyclic garbage collector paused (its parse, checks and COPY
allocate tens of thousands of small objects without cycles), and resumes it afterwards,
also when the import is refused."""

from __future__ import annotations

import gc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from shared.commands.journal import JournalCommands
from tests.api.conftest import Headers, Person
from tests.api.test_bounds import action

pytestmark = pytest.mark.integration


def test_the_collector_is_paused_during_an_import_and_resumed_after(
    client: FlaskClient,
    headers_of: Callable[[str], Headers],
    new_person: Callable[..., Person],
    monkeypatch: pytest.MonkeyPatch,
):
    seen: list[bool] = []
    original = JournalCommands.import_events

    def watched(self: JournalCommands, *args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(JournalCommands, "import_events", watched)
    assert gc.isenabled()
    person = new_person()
    day = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    body = {"events": [action(person.id, day)]}
    admin = headers_of("admin")
    assert client.post("/api/v1/events:import", json=body, headers=admin).status_code == 201
    bad = {"events": [action(uuid.uuid4(), day)]}  # no such person: 422
    assert client.post("/api/v1/events:import", json=bad, headers=admin).status_code == 422
    assert seen == [False, False]
    assert gc.isenabled()
