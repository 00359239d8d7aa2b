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

import hashlib
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from sqlalchemy import Connection, Engine, text

from shared.domain import levers as model
from shared.domain.privacy import effective_k
from shared.projections.capital import week_index
from shared.projections.levers.reads import org_weeks

STORED_WEEKS = 52
"""Weeks up to this one every stored view covers at least: every page's range (a lever
detail's 26 weeks up to any of the last 26 weeks) is among them."""

_ORG_CACHE: dict[tuple[Any, ...], dict[str, Any]] = {}
ORG_CACHE_SIZE = 16
CHEAP_ORG_VIEW_MS = 100
"""An organisation view that took at most this long is recomputed when the projection moved
(always fresh); a costlier one is served stored and refreshed by the scheduler."""

Teams = Literal["all", "last", "none"]
"""Which weeks of the top-level teams a read returns: every week asked for (the API), only
the last (an overview's heat map), none (a lever detail)."""


def current_week() -> int:
    """The index of this ISO week (UTC)."""
    return week_index(datetime.now(UTC).date())


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
    (:func:`_source`) is served too, its position moved up. Otherwise it is computed and
    stored here. Within a process the answer is also kept for a given ``position``."""
    k = effective_k(k)
    key = (str(tenant_id), first, last, k, position, teams)
    cached = _ORG_CACHE.get(key) if position is not None else None
    if cached is not None and cached["as_of_position"] >= min_position:
        return cached
    view = _stored_view(conn, tenant_id, first, last, k, position, min_position, teams)
    if view is None:
        view = _store_org_view(conn, tenant_id, first, last, k, position, teams)
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
    teams_from = _teams_from(teams, first, last)
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
        {"t": tenant_id, "k": k, "f": first, "l": last, "tf": teams_from},
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
        now = position if position is not None else _levers_position(conn)
        if now > stored_at and _still_current(conn, tenant_id, k, now, state.source):
            stored_at = now
            serve = stored_at >= min_position
    if not serve:
        return None
    return _assemble(
        k,
        state.model_version,
        stored_at,
        orjson.loads(state.team_list) if state.team_list is not None else [],
        [(row.org, row.teams) for row in rows],
        teams,
    )


def _assemble(
    k: int,
    model_version: int,
    position: int,
    team_list: Sequence[Sequence[str]],
    weeks: Sequence[tuple[str | bytes, str | bytes | None]],
    teams: Teams,
) -> dict[str, Any]:
    """A view from its weeks' JSON texts (the organisation's, the teams' or None)."""
    out: list[dict[str, Any]] = [
        {"team_id": team_id, "name": name, "weeks": []} for team_id, name in team_list
    ]
    org = []
    for org_text, teams_text in weeks:
        org.append(orjson.loads(org_text))
        if teams_text is not None:
            for team, week in zip(out, orjson.loads(teams_text), strict=True):
                team["weeks"].append(week)
    return {
        "k": k,
        "model_version": model_version,
        "weeks": org,
        "teams": [] if teams == "none" else out,
        "as_of_position": position,
    }


def _span(first: int, last: int, stored: Any | None) -> tuple[int, int]:
    """The weeks a computation stores: what was asked, what was stored, and at least the
    :data:`STORED_WEEKS` up to this week."""
    now = current_week()
    lo, hi = min(first, now - STORED_WEEKS + 1), max(last, now)
    if stored is not None:
        lo, hi = min(lo, stored.first_week), max(hi, stored.last_week)
    return lo, hi


def _store_org_view(
    conn: Connection,
    tenant_id: Any,
    first: int,
    last: int,
    k: int,
    position: int | None,
    teams: Teams = "all",
) -> dict[str, Any]:
    """Compute the organisation view over the weeks to store (see :func:`_span`) and store
    it with the position it reflects (the projection's, read before the computation: at worst
    the view is newer than it says); the weeks ``first`` to ``last`` of it are returned."""
    k = effective_k(k)
    if position is None:
        position = _levers_position(conn)
    where = {"t": tenant_id, "k": k}
    stored = conn.execute(
        text("SELECT first_week, last_week FROM lever_org_views WHERE tenant_id = :t AND k = :k"),
        where,
    ).first()
    lo, hi = _span(first, last, stored)
    started = time.perf_counter()
    source = _source(conn, tenant_id)
    team_list, weeks = org_weeks(conn, tenant_id, lo, hi, k)
    texts = {
        week: (orjson.dumps(org), orjson.dumps(per_team)) for week, (org, per_team) in weeks.items()
    }
    took = round((time.perf_counter() - started) * 1000)
    _write(conn, tenant_id, k, position, lo, hi, team_list, texts, took, source)
    return _assemble(
        k,
        model.MODEL_VERSION,
        position,
        team_list,
        [
            texts[w] if w >= _teams_from(teams, first, last) else (texts[w][0], None)
            for w in range(first, last + 1)
        ],
        teams,
    )


def _teams_from(teams: Teams, first: int, last: int) -> int:
    """The first week whose teams a read returns."""
    return {"all": first, "last": last, "none": last + 1}[teams]


def _write(
    conn: Connection,
    tenant_id: Any,
    k: int,
    position: int,
    lo: int,
    hi: int,
    team_list: list[list[str]],
    texts: Mapping[int, tuple[bytes, bytes]],
    took: int,
    source: bytes,
) -> None:
    """Store a computed view unless a newer one (or the same one) is stored: the weeks whose
    text changed, then the state row, in the caller's transaction."""
    where = {"t": tenant_id, "k": k}
    conn.execute(
        text(
            "INSERT INTO lever_org_views (tenant_id, k, position, first_week, last_week, "
            "model_version, teams, source) VALUES (:t, :k, -1, 0, -1, 0, '[]', '') "
            "ON CONFLICT DO NOTHING"
        ),
        where,
    )
    state = conn.execute(
        text(
            "SELECT position, first_week, last_week FROM lever_org_views "
            "WHERE tenant_id = :t AND k = :k FOR UPDATE"
        ),
        where,
    ).one()
    if state.position > position or (
        state.position == position and state.first_week <= lo and state.last_week >= hi
    ):
        return  # another process stored a newer one (or this very one) meanwhile
    _write_weeks(conn, tenant_id, k, texts)
    conn.execute(
        text(
            "DELETE FROM lever_org_view_weeks WHERE tenant_id = :t AND k = :k "
            "AND week_index NOT BETWEEN :lo AND :hi"
        ),
        {**where, "lo": lo, "hi": hi},
    )
    conn.execute(
        text(
            "UPDATE lever_org_views SET position = :p, first_week = :lo, last_week = :hi, "
            "model_version = :v, teams = :teams, source = :source, compute_ms = :ms, "
            "refreshed_at = now() "
            "WHERE tenant_id = :t AND k = :k"
        ),
        {
            **where,
            "p": position,
            "lo": lo,
            "hi": hi,
            "v": model.MODEL_VERSION,
            "teams": orjson.dumps(team_list).decode(),
            "ms": took,
            "source": source,
        },
    )


def _write_weeks(
    conn: Connection, tenant_id: Any, k: int, texts: Mapping[int, tuple[bytes, bytes]]
) -> None:
    """Store the weeks of a view whose text changed (by their digest)."""
    where = {"t": tenant_id, "k": k}
    digests: dict[int, bytes] = dict(
        conn.execute(
            text(
                "SELECT week_index, digest FROM lever_org_view_weeks "
                "WHERE tenant_id = :t AND k = :k"
            ),
            where,
        ).all()
    )
    changed = []
    for week, (org, per_team) in texts.items():
        digest = hashlib.blake2b(org + b"\0" + per_team, digest_size=16).digest()
        if digests.get(week) != digest:
            changed.append((week, digest, org.decode(), per_team.decode()))
    if changed:  # a row per week: text parameters go as they are (an array would be escaped)
        conn.execute(
            text(
                "INSERT INTO lever_org_view_weeks (tenant_id, k, week_index, digest, org, teams) "
                "VALUES (:t, :k, :w, :d, :o, :m) "
                "ON CONFLICT (tenant_id, k, week_index) DO UPDATE SET digest = excluded.digest,"
                " org = excluded.org, teams = excluded.teams"
            ),
            [{**where, "w": w, "d": d, "o": o, "m": m} for w, d, o, m in changed],
        )


def _source(conn: Connection, tenant_id: Any) -> bytes:
    """A digest of everything an organisation view is computed from: the organisation's
    rows of the read model, its teams (names and hierarchy) and the model's version."""
    found = conn.execute(
        text(
            "SELECT (SELECT md5(string_agg(w::text, ',' ORDER BY w.team_id, w.week_index))"
            "  FROM lever_team_weeks w WHERE w.tenant_id = :t),"
            " (SELECT md5(string_agg(concat_ws('/', t.id, t.name, t.parent_team_id), ','"
            "  ORDER BY t.id)) FROM teams t WHERE t.tenant_id = :t)"
        ),
        {"t": tenant_id},
    ).one()
    return hashlib.blake2b(
        f"{model.MODEL_VERSION}|{found[0]}|{found[1]}".encode(), digest_size=16
    ).digest()


def _still_current(conn: Connection, tenant_id: Any, k: int, position: int, source: bytes) -> bool:
    """Whether a stored view computed from ``source`` is still what the read model at
    ``position`` (read before this) gives; if so its position moves up to it."""
    if _source(conn, tenant_id) != bytes(source):
        return False
    conn.execute(
        text(
            "UPDATE lever_org_views SET position = :p "
            "WHERE tenant_id = :t AND k = :k AND position < :p"
        ),
        {"t": tenant_id, "k": k, "p": position},
    )
    return True


def _levers_position(conn: Connection) -> int:
    """The position the levers read model has reached (0 before it is registered)."""
    row = conn.execute(text("SELECT position FROM projections WHERE name = 'levers'")).scalar()
    return int(row or 0)


def refresh_org_views(
    engine: Engine, wanted: Iterable[tuple[Any, int]] = (), unread_days: int = 14
) -> int:
    """Compute every stored organisation view the levers projection has moved past or that
    misses this week, and the view of each (organisation, k) in ``wanted`` that is not stored
    yet (the scheduler passes every organisation with lever data at its k: a page finds its
    view stored). A view nobody read for ``unread_days`` days is dropped instead, unless it
    is wanted. A view whose organisation's rows did not change (the projection moved for
    other organisations, or for events no lever reads) only has its position moved up.
    Returns how many were computed."""
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
        position = _levers_position(conn)
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
                and _still_current(conn, uuid.UUID(tenant), k, position, found.source)
            ):
                continue  # only other organisations' events, or none a lever reads
            _store_org_view(conn, uuid.UUID(tenant), now, now, k, position)
            computed += 1
    return computed
