"""A rebuild's tables loaded without keys: primary keys and indexes built once after the rows.

A rebuild (shared/projections/chunked.py) writes fresh shadow tables that no reader sees
before the switch, so their primary keys and secondary indexes are dropped first
(:func:`drop_keys`), every chunk's rows are appended with COPY, and the keys are built once
the last rows are in (:func:`restore_keys`): one sort of the loaded rows is several times
cheaper than a b-tree insertion per row.

"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

log = logging.getLogger(__name__)


@dataclass
class DroppedKeys:
    """What :func:`drop_keys` dropped, for :func:`restore_keys` to build again.

    Attributes:
        tables: every table's physical name (each is analysed once its keys are back).
        primary: (table, constraint name, its definition) of each primary key.
        secondary: (table, index number, column list) of each secondary index, named
            ``{table}_i{number}`` as shared/projections/tables.py names them.
        duplicates: tables whose primary key found rows sharing a key (see
            :func:`restore_keys`).
    """

    tables: list[str] = field(default_factory=list)
    primary: list[tuple[str, str, str]] = field(default_factory=list)
    secondary: list[tuple[str, int, str]] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


def drop_keys(
    pg: Any, tables: Mapping[str, str], indexes: Mapping[str, Sequence[str]]
) -> DroppedKeys:
    """Drop the primary keys and secondary indexes of a rebuild's fresh tables.

    Parameters:
        pg: a psycopg connection, in a transaction.
        tables: base table name -> physical (fresh, empty) table name.
        indexes: base table name -> index column lists (the projection's ``indexes``).

    Returns:
        What was dropped.
    """
    dropped = DroppedKeys(list(tables.values()))
    for base, columns in indexes.items():
        for i, cols in enumerate(columns):
            pg.execute(f"DROP INDEX IF EXISTS {tables[base]}_i{i}")
            dropped.secondary.append((tables[base], i, cols))
    for name in tables.values():
        found = pg.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'p'",
            (name,),
        ).fetchone()
        if found is not None:
            dropped.primary.append((name, *found))
            pg.execute(f"ALTER TABLE {name} DROP CONSTRAINT {found[0]}")
    return dropped


def restore_keys(pg: Any, dropped: DroppedKeys) -> None:
    """Build again what :func:`drop_keys` dropped.

    A rebuild folds the log a group of people at a time, so two people's rows that name
    the same id (a client-chosen id reused across people or organisations, which catch-up
    resolves in log order) land in the table twice and its primary key cannot be built:
    such a table is recorded in ``dropped.duplicates`` (and logged), its other keys built,
    and the caller rebuilds the projection another way.

    Parameters:
        pg: a psycopg connection, in a transaction.
        dropped: what :func:`drop_keys` returned.
    """
    pg.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for name, constraint, definition in dropped.primary:
        try:
            with pg.transaction():  # a savepoint: a duplicate key fails only this statement
                pg.execute(f"ALTER TABLE {name} ADD CONSTRAINT {constraint} {definition}")
        except psycopg.errors.UniqueViolation:
            dropped.duplicates.append(name)
            log.warning(
                "rebuild: %s holds rows sharing a key (an id used by more than one person): "
                "its projection is rebuilt again in log order",
                name,
            )
    for name, i, cols in dropped.secondary:
        pg.execute(f"CREATE INDEX {name}_i{i} ON {name} ({cols})")


def analyse_table(pg: Any, name: str) -> None:
    """Gather the planner's statistics of one table, once its rows are in.

    Parameters:
        pg: a psycopg connection.
        name: the table's physical name.
    """
    pg.execute(f"ANALYZE {name}")
