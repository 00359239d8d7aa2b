"""Which errors of ``apply`` are an event's (quarantined) and which the infrastructure's
(raised again: the batch is retried, no tenant is held back)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from shared.projections.quarantine import is_infrastructure


def test_the_servers_the_connections_and_the_process_errors_are_not_the_events() -> None:
    assert is_infrastructure(OperationalError("SELECT 1", {}, Exception("server closed")))
    assert is_infrastructure(MemoryError())
    lost = DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)
    assert is_infrastructure(lost)


def test_an_events_errors_are_quarantined() -> None:
    assert not is_infrastructure(OverflowError("date value out of range"))
    assert not is_infrastructure(KeyError("team"))
    assert not is_infrastructure(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_infrastructure(DBAPIError("SELECT 1", {}, Exception("bad"), False))
