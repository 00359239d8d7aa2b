"""The registry of projections in PostgreSQL: their rows, their tables by generation, and
their partition checkpoints.

``projections`` holds one row per projection (version, live generation, position, status,
number of partitions); ``projection_partitions`` one checkpoint per partition of it. A
generation *g* of a projection's tables is ``{table}__g{g}``; the view ``{table}`` reads the
live one. Every writer locks a projection's checkpoint rows first, in partition order, then
its ``projections`` row: two writers never deadlock.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, text

from shared.projections.projection import Projection

log = logging.getLogger("compound.projections")


def physical(base: str, generation: int) -> str:
    """The physical table of generation ``generation`` of base table ``base``.

    Parameters:
        base: the base name (the view readers query).
        generation: the generation.

    Returns:
        ``{base}__g{generation}``.
    """
    return f"{base}__g{generation}"


def table_names(projection: Projection, generation: int) -> dict[str, str]:
    """The physical tables of a generation.

    Parameters:
        projection: the projection.
        generation: the generation.

    Returns:
        Base table name -> physical name.
    """
    return {base: physical(base, generation) for base in projection.tables}


def create_tables(conn: Connection, projection: Projection, generation: int) -> None:
    """(Re)create generation ``generation`` of ``projection``'s tables, empty, with their
    indexes.

    Parameters:
        conn: the connection of the caller's transaction.
        projection: the projection.
        generation: the generation.
    """
    for base, columns in projection.tables.items():
        name = physical(base, generation)
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
        conn.execute(text(f"CREATE TABLE {name} ({columns})"))
        for i, cols in enumerate(projection.indexes.get(base, ())):
            conn.execute(text(f"CREATE INDEX {name}_i{i} ON {name} ({cols})"))


def switch_views(conn: Connection, projection: Projection, generation: int) -> None:
    """Point ``projection``'s views at generation ``generation``.

    Parameters:
        conn: the connection of the caller's transaction.
        projection: the projection.
        generation: the generation readers see from the commit on.
    """
    for base in projection.tables:
        conn.execute(text(f"DROP VIEW IF EXISTS {base}"))
        conn.execute(text(f"CREATE VIEW {base} AS SELECT * FROM {physical(base, generation)}"))


def register(engine: Engine, projection: Projection, partitions: int) -> None:
    """Register ``projection`` and create generation 1 of its tables if missing; give it its
    checkpoint rows, split into ``partitions`` once they line up (:func:`repartition`).

    Parameters:
        engine: the database.
        projection: the projection.
        partitions: its number of partitions when it is new or its checkpoints line up.
    """
    with engine.begin() as conn:
        inserted = conn.execute(
            text(
                "INSERT INTO projections (name, version, generation, partitions) "
                "VALUES (:n, :v, 1, :k) ON CONFLICT (name) DO NOTHING RETURNING name"
            ),
            {"n": projection.name, "v": projection.version, "k": partitions},
        ).first()
        if inserted is not None:
            create_tables(conn, projection, 1)
            switch_views(conn, projection, 1)
        # A partition without a row starts at the projection's position (the lowest
        # of all: nothing after it was applied in a partition that had no row).
        conn.execute(
            text(
                "INSERT INTO projection_partitions (projection, partition, position) "
                "SELECT name, k, position FROM projections, "
                "generate_series(0, partitions - 1) AS k WHERE name = :n "
                "ON CONFLICT DO NOTHING"
            ),
            {"n": projection.name},
        )
    with engine.begin() as conn:
        repartition(conn, projection.name, partitions)


def lock_partitions(conn: Connection, name: str) -> list[tuple[int, int]]:
    """Lock every checkpoint row of projection ``name``, in partition order.

    Parameters:
        conn: the connection of the caller's transaction (which holds the locks).
        name: the projection.

    Returns:
        ``(partition, position)`` of each.
    """
    rows = conn.execute(
        text(
            "SELECT partition, position FROM projection_partitions WHERE projection = :n "
            "ORDER BY partition FOR UPDATE"
        ),
        {"n": name},
    ).all()
    return [(int(r.partition), int(r.position)) for r in rows]


def repartition(conn: Connection, name: str, count: int, position: int | None = None) -> bool:
    """Split projection ``name`` into ``count`` checkpoints if all of them are at one
    position. Locks the checkpoint rows, then the projection's row (the order every writer
    follows).

    Parameters:
        conn: the connection of the caller's transaction.
        name: the projection.
        count: the partitions it is to have.
        position: set every checkpoint there, lined up or not (a rebuild's switch).

    Returns:
        Whether the checkpoints were split anew.
    """
    rows = lock_partitions(conn, name)
    row = conn.execute(
        text("SELECT position, partitions FROM projections WHERE name = :n FOR UPDATE"),
        {"n": name},
    ).one()
    if position is None:
        if row.partitions == count and len(rows) == count:
            return False
        positions = {max(p, int(row.position)) for _, p in rows} or {int(row.position)}
        if len(positions) > 1:
            log.info("projection %s keeps %d partitions until they line up", name, row.partitions)
            return False
        position = positions.pop()
    params = {"p": position, "n": name, "k": count}
    conn.execute(
        text(
            "UPDATE projection_partitions SET position = :p, updated_at = now() "
            "WHERE projection = :n AND partition < :k"
        ),
        params,
    )
    conn.execute(
        text("DELETE FROM projection_partitions WHERE projection = :n AND partition >= :k"),
        {"n": name, "k": count},
    )
    conn.execute(
        text(
            "INSERT INTO projection_partitions (projection, partition, position) "
            "SELECT :n, k, :p FROM generate_series(0, :k - 1) AS k ON CONFLICT DO NOTHING"
        ),
        params,
    )
    conn.execute(
        text("UPDATE projections SET partitions = :k, position = :p WHERE name = :n"), params
    )
    return True


def head_position(conn: Connection) -> int:
    """The position of the last event in the log.

    Parameters:
        conn: a connection.

    Returns:
        The position (0 for an empty log).
    """
    return int(conn.execute(text("SELECT coalesce(max(position), 0) FROM events")).scalar_one())
