"""The SQLAlchemy engine, and raw psycopg connections for the hot paths.

Create them inside each process (after any fork), never at import time.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import psycopg
from psycopg.pq import ExecStatus, TransactionStatus
from psycopg.types.json import set_json_loads
from sqlalchemy import Connection, Engine, create_engine, event

from shared.settings import Settings, normalise_database_url

log = logging.getLogger("compound.database")

LIST_SQL = "string_to_array(%s, ',')"
"""SQL of a text[] parameter sent as one :func:`joined` string: several times cheaper to
adapt than a list. Only for values that never hold a comma: ids, ISO weeks, tactics (names
from a fixed set, as the event schemas check), dates and numbers."""


def joined(values: Iterable[str]) -> str:
    """The parameter of a :data:`LIST_SQL`.

    Parameters:
        values: strings without a comma.

    Returns:
        The values joined by commas.
    """
    return ",".join(values)


def make_engine(
    url_or_settings: str | Settings,
    *,
    pool_size: int = 5,
    max_overflow: int | None = None,
    statement_timeout_ms: int = 0,
) -> Engine:
    """Return an engine for PostgreSQL through psycopg 3.

    Parameters:
        url_or_settings: a database URL, or settings whose ``database_url`` is used.
        pool_size: connections kept open per process.
        max_overflow: connections opened beyond those when all are busy (default: as many
            again).
        statement_timeout_ms: the longest any statement of the engine's connections may
            run, lock waits included (PostgreSQL's ``statement_timeout``; 0: no limit).
            One that runs longer raises ``psycopg.errors.QueryCanceled``.

    Returns:
        The engine.
    """
    if isinstance(url_or_settings, Settings):
        url = url_or_settings.require_database_url()
    else:
        url = normalise_database_url(url_or_settings)
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        # No pre-ping (a round trip per checkout): a dropped connection raises a disconnect
        # error, SQLAlchemy invalidates the pool, and the next checkout reconnects.
        pool_pre_ping=False,
        # The rollback on return is done by _rollback_on_return below (quietly replacing a
        # connection the server dropped), not by the pool (which logs a traceback for it).
        pool_reset_on_return=None,
        connect_args=_connect_args(statement_timeout_ms),
    )
    event.listen(engine, "reset", _rollback_on_return)
    # SQLAlchemy's own rollbacks too (a Connection closed in a transaction): the dialect
    # calls ``dbapi_connection.rollback()``, which forgets the prepared statements.
    setattr(engine.dialect, "do_rollback", _dialect_rollback)  # noqa: B010

    @event.listens_for(engine, "connect")
    def _fast_json(dbapi_connection: Any, _record: Any) -> None:
        # jsonb columns are parsed by orjson: several times faster than json.loads.
        set_json_loads(orjson.loads, dbapi_connection)

    return engine


def _connect_args(statement_timeout_ms: int) -> dict[str, Any]:
    """libpq connection arguments: the application name, and a statement timeout when set
    (sent at connect: no round trip per checkout)."""
    args: dict[str, Any] = {"application_name": "compound"}
    if statement_timeout_ms > 0:
        args["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
    return args


def _rollback_on_return(dbapi_connection: Any, record: Any, state: Any) -> None:
    """Roll back a connection going back to the pool; drop it if the server is gone.

    Raw psycopg calls (the hot paths, see :func:`as_psycopg`) bypass SQLAlchemy's disconnect
    detection, so after a database restart the dead connection is only found here. It is
    invalidated (the next checkout reconnects) and the request's own error says the rest.
    """
    if state.terminate_only:
        return
    try:
        rollback_keeping_prepared(dbapi_connection)
    except psycopg.OperationalError as err:
        log.info("dropping a pooled connection the server closed: %s", err)
        record.invalidate(err)


def rollback_keeping_prepared(pg: psycopg.Connection[Any]) -> None:
    """Roll back ``pg``'s transaction, keeping the statements it prepared.

    psycopg forgets a connection's prepared statements on every ``rollback()`` and sends
    ``DEALLOCATE ALL`` (one more round trip), though PostgreSQL keeps them: a rollback does
    not undo a PREPARE. As the pool rolls back every connection it takes back, no statement
    stayed prepared from one checkout to the next: each was parsed and planned again, and
    the ones prepared on purpose (the session look-up) were prepared and deallocated on
    every request. A plain ROLLBACK on the libpq connection leaves psycopg's record of them
    as it was. Anything else than an open transaction takes psycopg's own rollback: a failed
    one (it may have failed on a statement a migration made stale, "cached plan must not
    change result type", which would otherwise fail on that connection for its whole life;
    failures are rare, so forgetting then costs nothing that matters), a broken connection,
    a pipeline.

    SQLAlchemy's rollbacks (a connection's transaction ending) and the pool's (a connection
    coming back) both take this one (:func:`make_engine`).

    Raises:
        psycopg.OperationalError: the server did not roll back (a dropped connection).
    """
    status = pg.info.transaction_status
    if status == TransactionStatus.IDLE:
        return
    if status == TransactionStatus.INTRANS and not pg.pgconn.pipeline_status:
        with contextlib.suppress(psycopg.OperationalError):
            if pg.pgconn.exec_(b"ROLLBACK").status == ExecStatus.COMMAND_OK:
                return
    pg.rollback()  # psycopg's own: it raises what went wrong, the connection marked broken


def _dialect_rollback(connection: Any) -> None:
    """The dialect's ``do_rollback``: it is handed the pool's proxy of the connection."""
    rollback_keeping_prepared(getattr(connection, "driver_connection", connection))


_held = threading.local()
"""This thread's shared autocommit connection (:func:`one_autocommit_connection`): ``open``
while a block is, ``engine`` and ``fairy`` once its first use checked a connection out."""


@contextmanager
def one_autocommit_connection() -> Iterator[None]:
    """Within the block, this thread's :func:`autocommit_connection` calls share one pooled
    connection: the first checks it out (its engine's), the block's end returns it.

    The gateway opens one around each request: an API call that looks up its caller and
    appends takes one connection from the pool, not two (each checkout and return costs
    about as much CPU as a small statement). Only autocommit statements share it: each
    commits on its own, so nothing one does waits for another. A block that never asks
    checks nothing out; calls on another engine than the first's take their own; a nested
    block leaves the outer one in charge.
    """
    if getattr(_held, "open", False):
        yield
        return
    _held.open, _held.engine, _held.fairy = True, None, None
    try:
        yield
    finally:
        fairy = _held.fairy
        _held.open, _held.engine, _held.fairy = False, None, None
        if fairy is not None:
            _give_back(fairy)


@contextmanager
def autocommit_connection(engine: Engine) -> Iterator[psycopg.Connection[Any]]:
    """A pooled psycopg connection in autocommit mode, for one-statement hot paths.

    A single statement in autocommit takes one round trip, without BEGIN, COMMIT and
    SQLAlchemy's per-statement machinery. The connection goes back to the pool in its
    usual (transactional) mode; one the server dropped is invalidated, never handed out
    again. Inside :func:`one_autocommit_connection`, the block's connection is used (and
    kept) instead.

    Parameters:
        engine: an engine from :func:`make_engine`.

    Returns:
        A context manager yielding the raw psycopg connection.

    Raises:
        psycopg.OperationalError: the server went away (the connection is discarded).
    """
    shared = getattr(_held, "open", False) and _held.engine in (None, engine)
    fairy = _held.fairy if shared else None
    fresh = fairy is None
    if fairy is None:
        fairy = engine.raw_connection()
    pg = fairy.driver_connection
    assert isinstance(pg, psycopg.Connection)
    try:
        if fresh:
            pg.autocommit = True
            if shared:
                _held.engine, _held.fairy = engine, fairy
        yield pg
    except psycopg.OperationalError:
        fairy.invalidate()  # the server went away: the pool must not hand it out again
        if shared:
            _held.engine = _held.fairy = None
        raise
    finally:
        if not shared and fairy.is_valid:
            _give_back(fairy)
        elif not fairy.is_valid:
            fairy.close()


def _give_back(fairy: Any) -> None:
    """Return an autocommit connection to the pool in its usual (transactional) mode."""
    pg = fairy.driver_connection
    if not pg.broken:
        pg.autocommit = False
    fairy.close()


def as_psycopg(conn: Connection | psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    """The psycopg connection under a SQLAlchemy connection (in the same transaction).

    The event store's hot paths talk to psycopg directly: SQLAlchemy's statement handling
    costs more than the statements themselves there.
    """
    if isinstance(conn, psycopg.Connection):
        return conn
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return driver
