""":func:`read_capital` remembered per person, day and projection position: the portal's
Today and My capital pages both score the person's capital at read time (a few
milliseconds of decay and scoring), and a person moving between them, or reloading one,
asks again for the same answer.

The key is (tenant, person, day scored, the capital projection's position the caller saw
before reading). An answer read after the projection reached position ``P`` reflects every
event up to ``P`` at least, so an answer kept under ``P`` is never older than the key says;
any new event projected (an action, a retraction, an absence, an erasure) moves the
position, and the next request reads afresh. Answers are kept pickled (each caller gets its
own copy: nothing shared is mutable), the last :data:`SIZE` of them, per process. My capital
reads its tables on every request (``fresh``: a slow or locked table shows there as it
always did) and keeps what it read; Today takes a kept answer. What My capital read is
scored once per distinct rows: the scoring is a function of the rows and the day alone, so
its answer is also kept under a digest of the rows' values
(:meth:`~shared.projections.capital.reads.CapitalRows.digest`), and rows read again with no
value changed are not scored again."""

from __future__ import annotations

import pickle
import threading
from collections import OrderedDict
from datetime import date
from typing import Any

from sqlalchemy import Connection

from shared.projections.capital.reads import capital_rows, score_capital

SIZE = 512  # answers kept (about 5 KB each)

_kept: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
_lock = threading.Lock()


def read_capital_seen(
    conn: Connection,
    tenant_id: Any,
    person_id: Any,
    as_of: date,
    position: int,
    fresh: bool = False,
) -> dict[str, Any]:
    """:func:`read_capital` for a caller who saw the capital projection at ``position``
    (:func:`shared.projections.status.wait_for`'s answer), remembered under that position.

    Parameters:
        conn: a connection.
        tenant_id, person_id: whose capital.
        as_of: the last day scored.
        position: the capital projection's position read before this call.
        fresh: read from the database even when an answer is kept (and keep the new one):
            My capital itself always reads its tables, Today takes what it left.

    Returns:
        What :func:`read_capital` returns (a fresh copy on each call).
    """
    key = (tenant_id, person_id, as_of, position)
    kept = None if fresh else _kept_bytes(key)
    if kept is None:
        rows = capital_rows(conn, tenant_id, person_id, as_of)
        scored = (tenant_id, person_id, as_of, rows.digest())
        kept = _kept_bytes(scored)
        if kept is None:
            kept = pickle.dumps(score_capital(rows, as_of), pickle.HIGHEST_PROTOCOL)
            _keep(scored, kept)
        _keep(key, kept)
    found: dict[str, Any] = pickle.loads(kept)  # our own bytes
    return found


def _kept_bytes(key: tuple[Any, ...]) -> bytes | None:
    with _lock:
        kept = _kept.get(key)
        if kept is not None:
            _kept.move_to_end(key)
        return kept


def _keep(key: tuple[Any, ...], answer: bytes) -> None:
    with _lock:
        _kept[key] = answer
        while len(_kept) > SIZE:
            _kept.popitem(last=False)


def forget_all() -> None:
    """Drop every kept answer (tests)."""
    with _lock:
        _kept.clear()
