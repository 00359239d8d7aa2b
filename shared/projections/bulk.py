"""A rebuild's tables written in one go: COPY text, keys and indexes built after the rows.

A rebuild's fold (``Projection.begin_rebuild()``, shared/projections/runtime.py) computes
every row of its shadow tables in memory; :func:`load_tables` writes them. The tables are
fresh and no reader sees them before the switch, so their primary keys and secondary
indexes are dropped first and built once the rows are in: one sort of the loaded rows is
several times cheaper than a b-tree insertion per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

NULL = "\\N"
"""NULL in COPY's text format."""
CHUNK = 20_000
"""Lines per write to the COPY stream (a few MB)."""


def copy_lines(pg: Any, table: str, columns: str, *parts: Iterable[str]) -> None:
    """COPY the lines of ``parts`` (each line a row in COPY's text format, ending with a
    newline) into ``table`` (``columns``: the column list), :data:`CHUNK` lines per write;
    a list is written in slices, without a Python step per line."""
    with pg.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for lines in parts:
            if isinstance(lines, list):
                for start in range(0, len(lines), CHUNK):
                    copy.write("".join(lines[start : start + CHUNK]))
                continue
            chunk: list[str] = []
            for line in lines:
                chunk.append(line)
                if len(chunk) >= CHUNK:
                    copy.write("".join(chunk))
                    chunk = []
            if chunk:
                copy.write("".join(chunk))


def load_tables(
    pg: Any,
    tables: Mapping[str, str],
    indexes: Mapping[str, Sequence[str]],
    write: Callable[[], None],
) -> None:
    """Run ``write`` (the COPYs into ``tables``, base -> physical name) with the tables'
    primary keys and secondary indexes (``indexes``: base -> column lists, named as the
    runtime names them) dropped, then build them again and analyse the tables."""
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
