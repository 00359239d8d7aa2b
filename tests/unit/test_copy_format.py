"""The one COPY text encoder (shared/copy_format.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from shared.copy_format import NULL, encode, encode_plain_row, encode_row, escape


def test_values_in_copy_text() -> None:
    tenant = uuid.UUID(int=7)
    assert encode(None) == NULL == "\\N"
    assert encode(True) == "t"
    assert encode(False) == "f"
    assert encode(3) == "3"
    assert encode(2.5) == "2.5"
    assert encode(tenant) == str(tenant)
    assert encode([1, 2]) == "{1,2}"
    assert encode(date(2026, 12, 6)) == "2026-12-06"
    assert encode(datetime(2026, 12, 6, 1, 2, tzinfo=UTC)) == "2026-12-06T01:02:00+00:00"


def test_text_is_escaped_so_a_row_stays_one_line() -> None:
    assert escape("plain") == "plain"
    assert escape("a\tb\nc\rd\\e") == "a\\tb\\nc\\rd\\\\e"
    assert encode("stream\tid") == "stream\\tid"


def test_rows_end_with_a_newline() -> None:
    assert encode_row(["a", None, True]) == "a\t\\N\tt\n"
    assert encode_plain_row([1, 2.5, "x"]) == "1\t2.5\tx\n"
