"""Web requests run under a statement timeout (``COMPOUND_STATEMENT_TIMEOUT_MS``; issue 18):
a read stuck behind a lock is cancelled by PostgreSQL, the API answers 503 problem+json with
Retry-After, a page a 503 page, and the same request answers again once the lock is gone
(no connection or worker left hanging; real PostgreSQL)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from services.gateway.resources import BULK_TIMEOUT_FACTOR
from shared.eventlog import EventStore
from shared.projections import runtime
from shared.settings import Settings
from tests.api.conftest import Person, assert_problem
from tests.portal.conftest import csrf_of

pytestmark = pytest.mark.integration

TIMEOUT_MS = 300


@pytest.fixture(scope="module")
def hurried_app(settings: Settings) -> Iterator[Flask]:
    """A gateway whose statements may run 0.3 s."""
    from services.gateway import create_app

    app = create_app(
        {
            "COMPOUND_SETTINGS": dataclasses.replace(settings, statement_timeout_ms=TIMEOUT_MS),
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": "compound.test",
        }
    )
    yield app
    app.extensions["compound"].close()


@contextmanager
def locked(engine: Engine, table: str) -> Iterator[None]:
    """Hold an exclusive lock on ``table`` (every read of it waits) for the block."""
    with engine.begin() as conn:
        conn.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        yield


def within(seconds: float, call: Callable[[], Any]) -> Any:
    """``call()``'s result, failing (not hanging) when it takes longer than ``seconds``: a
    request without a timeout would wait for the lock this test holds forever."""
    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(call).result(timeout=seconds)
    except FutureTimeout:
        pytest.fail(f"no answer within {seconds} s: the statement was not cancelled")
    finally:
        pool.shutdown(wait=False)  # the caller's lock goes next; then the thread ends


def waiting_for_locks(engine: Engine) -> int:
    """How many statements of this database wait for a lock."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                    "WHERE NOT l.granted AND d.datname = current_database()"
                )
            ).scalar_one()
        )


def test_a_read_past_the_timeout_answers_503_with_retry_after(
    hurried_app: Flask, store: EventStore, new_person
) -> None:
    runtime(store).ensure()
    person: Person = new_person()
    client = hurried_app.test_client()
    assert client.get("/api/v1/me/capital", headers=person.headers).status_code == 200
    with locked(store.engine, "capital_contributions"):
        response = within(3, lambda: client.get("/api/v1/me/capital", headers=person.headers))
        problem = assert_problem(response, 503)
        assert problem["type"].endswith("statement-timeout")
        assert int(response.headers["Retry-After"]) > 0
        assert waiting_for_locks(store.engine) == 0  # PostgreSQL cancelled it: nothing waits
    again = client.get("/api/v1/me/capital", headers=person.headers)
    assert again.status_code == 200, again.get_data(as_text=True)


def test_a_page_past_the_timeout_is_a_503_page(
    hurried_app: Flask, store: EventStore, new_person
) -> None:
    runtime(store).ensure()
    person: Person = new_person()
    client: FlaskClient = hurried_app.test_client()
    form = {"csrf_token": csrf_of(client), "email": person.email, "password": person.password}
    assert client.post("/login", data=form).status_code == 302
    assert client.get("/capital").status_code == 200
    with locked(store.engine, "capital_contributions"):
        response = within(3, lambda: client.get("/capital"))
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert int(response.headers["Retry-After"]) > 0
    assert "took too long" in response.get_data(as_text=True)
    assert client.get("/capital").status_code == 200


def test_the_default_app_has_the_default_timeout(app: Flask) -> None:
    with app.app_context():
        engine = app.extensions["compound"].engine
        with engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "5s"


def test_imports_run_with_twelve_times_the_timeout(hurried_app: Flask) -> None:
    """Appending an import's 50,000 events is one statement of seconds: its own connection."""
    with hurried_app.app_context():
        engine = hurried_app.extensions["compound"].bulk_journal.store.engine
        with engine.connect() as conn:
            shown = conn.execute(text("SHOW statement_timeout")).scalar_one()
    assert shown == f"{TIMEOUT_MS * BULK_TIMEOUT_FACTOR}ms"
