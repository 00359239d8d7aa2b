"""A rebuild's tables written in one go: COPY text, keys and indexes built after the rows.

A rebuild's fold (``Projection.begin_rebuild()``, shared/projections/runtime.py) computes
every row of its shadow tables in memory; :func:`load_tables` writes them. The tables are
fresh and no reader sees them before the switch, so their primary keys and secondary
indexes are dropped first and built once the rows are in: one sort of the loaded rows is
several times cheaper than a b-tree insertion per row. The lines themselves are encoded and
sent by shared/copy_format.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any


def load_tables(
    pg: Any,
    tables: Mapping[str, str],
    indexes: Mapping[str, Sequence[str]],
    write: Callable[[], None],
) -> None:
    """Run ``write`` with the tables' primary keys and secondary indexes dropped, then build
    them again and analyse the tables.

    Parameters:
        pg: a psycopg connection, inside the rebuild's transaction.
        tables: base table name -> physical (fresh, empty) table name.
        indexes: base table name -> index column lists, named as the runtime names them.
        write: the COPYs into ``tables``.
    """
    secondary = [
        (tables[base], i, cols)
        for base, columns in indexes.items()
        for i, cols in enumerate(columns)
    ]
    for name, i, _ in secondary:
        pg.execute(f"DROP INDEX IF EXISTS {name}_i{i}")
    keys = []
    for name in tables.values():
        found = pg.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'p'",
            (name,),
        ).fetchone()
        if found is not None:
            keys.append((name, *found))
            pg.execute(f"ALTER TABLE {name} DROP CONSTRAINT {found[0]}")
    pg.execute("SET LOCAL maintenance_work_mem = '256MB'")
    write()
    for name, constraint, definition in keys:
        pg.execute(f"ALTER TABLE {name} ADD CONSTRAINT {constraint} {definition}")
    for name, i, cols in secondary:
        pg.execute(f"CREATE INDEX {name}_i{i} ON {name} ({cols})")
    for name in tables.values():
        pg.execute(f"ANALYZE {name}")
