"""A database of the contract suite's own: its rebuilds read the whole log from position 0,
so the log holds only the histories this suite writes (whichever tests ran before it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.eventlog import EventStore
from tests.databases import fresh_store


@pytest.fixture(scope="session")
def contract_store(postgres_server_url: str, master_key: str) -> Iterator[EventStore]:
    """An event store on a fresh, migrated database, dropped at the end of the session."""
    with fresh_store(postgres_server_url, master_key, "compound_contract") as store:
        yield store
