"""The organisation's levers, suppressed, and their stored views (the read side of the
levers projection for admins; the computation itself is :func:`.reads.org_weeks`).

An organisation view needs every team's whole history (the week-over-week rule): for a
thousand teams that takes seconds. Its answer for a week never depends on the range of weeks
asked for (:func:`shared.domain.privacy.protect_tree`), so it is stored **per week**, per
organisation and k (``lever_org_views``: the levers position it reflects, the weeks it
covers, the top-level teams; ``lever_org_view_weeks``: per week the organisation's cells and
the teams' cells, as JSON text parsed by orjson). Any range within the stored weeks is served
from them, and a page reads only what it shows: a lever detail the organisation's 26 weeks,
an overview its 12 and the teams of its one week.

The scheduler (:func:`refresh_org_views`, every 10 s) computes the view of every organisation
at its k once the projection has moved or a new week has begun, so a page finds it stored:
its cost stays off the request path. A stored view is written only where a week changed, and
not recomputed at all while what it is computed from (:func:`_source`) stays the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, text

from shared.domain.privacy import effective_k
from shared.projections.levers.org_view_store import STORED_WEEKS as STORED_WEEKS
from shared.projections.levers.org_view_store import (
    Teams,
    assemble,
    current_week,
    levers_position,
    still_current,
    store_org_view,
    teams_from,
)

_ORG_CACHE: dict[tuple[Any, ...], dict[str, Any]] = {}
ORG_CACHE_SIZE = 16
CHEAP_ORG_VIEW_MS = 100
"""An organisation view that took at most this long is recomputed when the projection moved
(always fresh); a costlier one is served stored and refreshed by the scheduler."""


def read_org_levers(
    conn: Connection,
    tenant_id: Any,
    first: int,
    last: int,
    k: int,
    position: int | None = None,
    min_position: int = 0,
    teams: Teams = "all",
) -> dict[str, Any]:
    """The organisation's levers (everyone) and its top-level teams', suppressed, per ISO week
    from ``first`` to ``last``. People in no team count in the organisation only, as its own
    members. ``as_of_position`` in the answer is the levers position it reflects. With
    ``teams="last"`` each team has only the week ``last``; with ``"none"`` no team is listed.

    The stored view is served while it covers the weeks and reflects at least
    ``min_position`` (a caller who asks for more gets it computed on the spot), and, when it
    is behind ``position`` (the projection's), only if it took more than
    :data:`CHEAP_ORG_VIEW_MS` to compute (a small organisation's is recomputed: always
    fresh). A stored view behind what is asked whose organisation's rows did not change since
    (:func:`source_digest`) is served too, its position moved up. Otherwise it is computed and
    stored here. Within a process the answer is also kept for a given ``position``.

    Parameters:
        conn: a connection (committed here: the view may be stored).
        tenant_id: the organisation.
        first, last: the week indexes of the first and last week.
        k: the organisation's k.
        position: the levers projection's position, if the caller knows it.
        min_position: the least position the answer must reflect.
        teams: which weeks of the top-level teams to return (:data:`Teams`).

    Returns:
        ``k``, ``model_version``, ``weeks``, ``teams`` and ``as_of_position``.
    """
    k = effective_k(k)
    key = (str(tenant_id), first, last, k, position, teams)
    cached = _ORG_CACHE.get(key) if position is not None else None
    if cached is not None and cached["as_of_position"] >= min_position:
        return cached
    view = _stored_view(conn, tenant_id, first, last, k, position, min_position, teams)
    if view is None:
        view = store_org_view(conn, tenant_id, first, last, k, position, teams)
    conn.commit()
    if position is not None:
        if len(_ORG_CACHE) >= ORG_CACHE_SIZE:
            _ORG_CACHE.pop(next(iter(_ORG_CACHE)))
        _ORG_CACHE[key] = view
    return view


def _stored_view(
    conn: Connection,
    tenant_id: Any,
    first: int,
    last: int,
    k: int,
    position: int | None,
    min_position: int,
    teams: Teams,
) -> dict[str, Any] | None:
    """The stored view of weeks ``first`` to ``last`` if :func:`read_org_levers` may serve
    it, else None."""
    first_team_week = teams_from(teams, first, last)
    # One statement: the state row and its weeks from one snapshot (a refresh writes both in
    # one transaction); an hour's precision of read_at is plenty for dropping unread views.
    rows = conn.execute(
        text(
            "WITH touched AS (UPDATE lever_org_views SET read_at = now() "
            " WHERE tenant_id = :t AND k = :k AND read_at < now() - interval '1 hour')"
            " SELECT s.position, s.compute_ms, s.first_week, s.last_week, s.model_version,"
            "  s.source,"
            "  CASE WHEN :tf <= :l THEN s.teams END AS team_list, w.week_index, w.org,"
            "  CASE WHEN w.week_index >= :tf THEN w.teams END AS teams"
            " FROM lever_org_views s LEFT JOIN lever_org_view_weeks w"
            "  ON w.tenant_id = s.tenant_id AND w.k = s.k"
            "  AND w.week_index BETWEEN :f AND :l"
            " WHERE s.tenant_id = :t AND s.k = :k ORDER BY w.week_index"
        ),
        {"t": tenant_id, "k": k, "f": first, "l": last, "tf": first_team_week},
    ).all()
    state: Any = rows[0] if rows else None
    current = position if position is not None else min_position
    covers = (
        state is not None
        and state.first_week <= first
        and state.last_week >= last
        and [row.week_index for row in rows] == list(range(first, last + 1))
    )
    stored_at = int(state.position) if state is not None else -1
    serve = (
        covers
        and stored_at >= min_position
        and (stored_at >= current or state.compute_ms > CHEAP_ORG_VIEW_MS)
    )
    if covers and not serve:
        # Behind: still right if nothing it is computed from changed since (the projection
        # also moves for other organisations and for events no lever reads).
        now = position if position is not None else levers_position(conn)
        if now > stored_at and still_current(conn, tenant_id, k, now, state.source):
            stored_at = now
            serve = stored_at >= min_position
    if not serve:
        return None
    return assemble(
        k,
        state.model_version,
        stored_at,
        orjson.loads(state.team_list) if state.team_list is not None else [],
        [(row.org, row.teams) for row in rows],
        teams,
    )


def refresh_org_views(
    engine: Engine, wanted: Iterable[tuple[Any, int]] = (), unread_days: int = 14
) -> int:
    """Compute every stored organisation view the levers projection has moved past or that
    misses this week, and the view of each (organisation, k) in ``wanted`` that is not stored
    yet (the scheduler passes every organisation with lever data at its k: a page finds its
    view stored). A view nobody read for ``unread_days`` days is dropped instead, unless it
    is wanted. A view whose organisation's rows did not change (the projection moved for
    other organisations, or for events no lever reads) only has its position moved up.

    Parameters:
        engine: the database.
        wanted: (organisation, k) of the views to keep stored.
        unread_days: days after which an unread view that is not wanted is dropped.

    Returns:
        How many views were computed.
    """
    wanted_keys = {(str(tenant), effective_k(k)) for tenant, k in wanted}
    with engine.begin() as conn:
        old = conn.execute(
            text(
                "SELECT tenant_id, k FROM lever_org_views "
                "WHERE read_at < now() - make_interval(days => :d)"
            ),
            {"d": unread_days},
        ).all()
        for row in old:
            if (str(row.tenant_id), row.k) not in wanted_keys:
                conn.execute(
                    text("DELETE FROM lever_org_views WHERE tenant_id = :t AND k = :k"),
                    {"t": row.tenant_id, "k": row.k},
                )
        position = levers_position(conn)
        stored = conn.execute(
            text(
                "SELECT tenant_id, k, position, last_week, source FROM lever_org_views "
                "ORDER BY read_at DESC"
            )
        ).all()
    now = current_week()
    stored_by = {(str(row.tenant_id), row.k): row for row in stored}
    have = stored_by.keys()
    todo = [(tenant, k) for tenant, k in sorted(wanted_keys) if (tenant, k) not in have]
    todo += [
        (str(row.tenant_id), row.k)
        for row in stored
        if row.position < position or row.last_week < now
    ]
    computed = 0
    for tenant, k in todo:
        with engine.begin() as conn:
            found = stored_by.get((tenant, k))
            if (
                found is not None
                and found.last_week >= now
                and still_current(conn, uuid.UUID(tenant), k, position, found.source)
            ):
                continue  # only other organisations' events, or none a lever reads
            store_org_view(conn, uuid.UUID(tenant), now, now, k, position)
            computed += 1
    return computed
