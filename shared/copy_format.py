"""PostgreSQL's COPY text format: the one encoder for every bulk write.

The event store's bulk append and every rebuild's tables are written with ``COPY ... FROM
STDIN`` in text format: one line per row, columns separated by tabs, ``\\N`` for NULL.
Building those lines in Python is several times cheaper than binding parameters per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from itertools import islice
from typing import Any

NULL = "\\N"
"""NULL in COPY's text format."""
CHUNK = 20_000
"""Lines per write to the COPY stream (a few MB)."""


def escape(text: str) -> str:
    """Escape ``text`` for COPY's text format.

    Parameters:
        text: any string (JSON from orjson has no raw tabs or newlines, but a stream id or a
            name might).

    Returns:
        ``text`` with backslashes, tabs, newlines and carriage returns escaped.
    """
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def encode(value: Any) -> str:
    """One column's value in COPY's text format.

    Parameters:
        value: ``None``, a boolean, a list (written as a PostgreSQL array of its items'
            ``str``), a date or datetime, a string, or anything whose ``str`` is its text
            (numbers, UUIDs).

    Returns:
        The column's text, escaped.
    """
    if value is None:
        return NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, list):
        return "{" + ",".join(str(v) for v in value) + "}"
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    return str(value)


def encode_row(row: Iterable[Any]) -> str:
    """One row as a COPY line, with its newline.

    Parameters:
        row: the columns' values, in the COPY's column order.

    Returns:
        The columns encoded by :func:`encode`, tab-separated, ending with ``"\\n"``.
    """
    return "\t".join([encode(v) for v in row]) + "\n"


def encode_plain_row(row: Iterable[Any]) -> str:
    """A row of ids, numbers, booleans-as-numbers and timestamps as a COPY line.

    The fast path of the big tables: such values' ``str`` is already COPY text (never
    ``None``, a list or text to escape), so no per-value dispatch is needed.

    Parameters:
        row: values whose ``str`` needs no escaping.

    Returns:
        The tab-separated line, ending with ``"\\n"``.
    """
    return "\t".join(map(str, row)) + "\n"


class CopyBuffer:
    """COPY text gathered in memory, table by table, to be sent later (:meth:`send`): a
    rebuild's fold encodes a chunk's rows while the previous chunk's are being sent.

    ``copy_lines`` and ``copy_rows`` write into it as into a connection.
    """

    def __init__(self) -> None:
        self.copies: list[tuple[str, list[str]]] = []

    def open(self, table: str, columns: str) -> list[str]:
        """A new COPY into ``table``: the list its text goes into.

        Parameters:
            table: the (physical) table name.
            columns: the column list, comma-separated.

        Returns:
            The list to append the COPY's text to, a few thousand lines per item.
        """
        pieces: list[str] = []
        self.copies.append((f"COPY {table} ({columns}) FROM STDIN", pieces))
        return pieces

    def send(self, pg: Any) -> None:
        """Run every COPY gathered, in order, then forget them.

        Parameters:
            pg: a psycopg connection (inside the caller's transaction).
        """
        copies, self.copies = self.copies, []
        with pg.cursor() as cur:
            for statement, pieces in copies:
                if not pieces:
                    continue
                with cur.copy(statement) as copy:
                    for piece in pieces:
                        copy.write(piece)


def copy_lines(pg: Any, table: str, columns: str, *parts: Iterable[str]) -> None:
    """COPY encoded lines into ``table``, :data:`CHUNK` lines per write.

    Parameters:
        pg: a psycopg connection (inside the caller's transaction), or a
            :class:`CopyBuffer` to gather the text in.
        table: the (physical) table name.
        columns: the column list, comma-separated, in the lines' order.
        parts: iterables of lines, each a row from :func:`encode_row` (ending with a
            newline); a list is written in slices, without a Python step per line.
    """
    if isinstance(pg, CopyBuffer):
        _encode(pg.open(table, columns).append, parts)
        return
    with pg.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        _encode(copy.write, parts)


def _encode(write: Callable[[str], Any], parts: Iterable[Iterable[str]]) -> None:
    """Join the lines of ``parts`` into pieces of :data:`CHUNK` lines, each to ``write``."""
    for lines in parts:
        if isinstance(lines, list):
            for start in range(0, len(lines), CHUNK):
                write("".join(lines[start : start + CHUNK]))
            continue
        lines = iter(lines)
        while chunk := list(islice(lines, CHUNK)):  # no Python step per line
            write("".join(chunk))


def copy_rows(
    pg: Any, table: str, columns: str, rows: Iterable[Sequence[Any]], *, plain: bool = False
) -> None:
    """COPY rows of values into ``table``.

    Parameters:
        pg: a psycopg connection (inside the caller's transaction), or a
            :class:`CopyBuffer`.
        table: the (physical) table name.
        columns: the column list, comma-separated, in the rows' order.
        rows: the rows' values.
        plain: every value's ``str`` is already COPY text (:func:`encode_plain_row`).
    """
    copy_lines(pg, table, columns, map(encode_plain_row if plain else encode_row, rows))
