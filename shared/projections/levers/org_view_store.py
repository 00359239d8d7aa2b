"""Stored organisation views: computing one over the weeks to store, writing the weeks
whose text changed, and the digest that tells whether a stored view is still current (the
serving side is :mod:`.org_views`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from sqlalchemy import Connection, text

from shared.domain import levers as model
from shared.domain.privacy import effective_k
from shared.domain.weeks import week_index
from shared.projections.levers.reads import org_weeks

STORED_WEEKS = 52
"""Weeks up to this one every stored view covers at least: every page's range (a lever
detail's 26 weeks up to any of the last 26 weeks) is among them."""

Teams = Literal["all", "last", "none"]
"""Which weeks of the top-level teams a read returns: every week asked for (the API), only
the last (an overview's heat map), none (a lever detail)."""


def current_week() -> int:
    """This ISO week.

    Returns:
        The index of this ISO week (UTC).
    """
    return week_index(datetime.now(UTC).date())


def assemble(
    k: int,
    model_version: int,
    position: int,
    team_list: Sequence[Sequence[str]],
    weeks: Sequence[tuple[str | bytes, str | bytes | None]],
    teams: Teams,
) -> dict[str, Any]:
    """A view from its weeks' JSON texts.

    Parameters:
        k: the k it was protected with.
        model_version: the model version it was computed with.
        position: the levers position it reflects.
        team_list: the top-level teams, [id, name].
        weeks: per week, the organisation's JSON and the teams' (or None: not returned).
        teams: which weeks of the teams are returned (:data:`Teams`).

    Returns:
        The view as :func:`.org_views.read_org_levers` answers.
    """
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


def store_org_view(
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
    the view is newer than it says).

    Parameters:
        conn: a connection (the caller's transaction).
        tenant_id: the organisation.
        first, last: the week indexes asked for.
        k: the organisation's k.
        position: the levers position, or None to read it.
        teams: which weeks of the teams to return.

    Returns:
        The weeks ``first`` to ``last`` of the view.
    """
    k = effective_k(k)
    if position is None:
        position = levers_position(conn)
    where = {"t": tenant_id, "k": k}
    stored = conn.execute(
        text("SELECT first_week, last_week FROM lever_org_views WHERE tenant_id = :t AND k = :k"),
        where,
    ).first()
    lo, hi = _span(first, last, stored)
    started = time.perf_counter()
    source = source_digest(conn, tenant_id)
    team_list, weeks = org_weeks(conn, tenant_id, lo, hi, k)
    texts = {
        week: (orjson.dumps(org), orjson.dumps(per_team)) for week, (org, per_team) in weeks.items()
    }
    took = round((time.perf_counter() - started) * 1000)
    _write(conn, tenant_id, k, position, lo, hi, team_list, texts, took, source)
    return assemble(
        k,
        model.MODEL_VERSION,
        position,
        team_list,
        [
            texts[w] if w >= teams_from(teams, first, last) else (texts[w][0], None)
            for w in range(first, last + 1)
        ],
        teams,
    )


def teams_from(teams: Teams, first: int, last: int) -> int:
    """The first week whose teams a read returns.

    Parameters:
        teams: which weeks of the teams a read returns.
        first, last: the weeks it asks for.

    Returns:
        A week index (``last + 1``: none).
    """
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


def source_digest(conn: Connection, tenant_id: Any) -> bytes:
    """A digest of everything an organisation view is computed from: the organisation's
    rows of the read model, its teams (names and hierarchy) and the model's version.

    Parameters:
        conn: a connection.
        tenant_id: the organisation.

    Returns:
        A 16-byte digest.
    """
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


def still_current(conn: Connection, tenant_id: Any, k: int, position: int, source: bytes) -> bool:
    """Whether a stored view computed from ``source`` is still what the read model at
    ``position`` (read before this) gives; if so its position moves up to it.

    Parameters:
        conn: a connection (the caller's transaction).
        tenant_id: the organisation.
        k: the view's k.
        position: the levers position now.
        source: the digest stored with the view.

    Returns:
        Whether the view is still current.
    """
    if source_digest(conn, tenant_id) != bytes(source):
        return False
    conn.execute(
        text(
            "UPDATE lever_org_views SET position = :p "
            "WHERE tenant_id = :t AND k = :k AND position < :p"
        ),
        {"t": tenant_id, "k": k, "p": position},
    )
    return True


def levers_position(conn: Connection) -> int:
    """The position the levers read model has reached.

    Parameters:
        conn: a connection.

    Returns:
        The position (0 before the projection is registered).
    """
    row = conn.execute(text("SELECT position FROM projections WHERE name = 'levers'")).scalar()
    return int(row or 0)
