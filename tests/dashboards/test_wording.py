"""How a dashboard reads a change and a figure, and writes a CSV (pure functions)."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

from services.gateway.dashboards import views, wording
from services.gateway.dashboards.views import Cell, Table
from shared.i18n import format_decimal, format_percent, use_locale

DOCS = Path(__file__).resolve().parents[2] / "docs" / "dashboards.md"


def test_a_change_under_the_levers_minimum_is_about_the_same():
    assert views.trend_text("psychological_safety", 0.1) == "▲ 0.1 (about the same)"
    assert views.trend_text("time_pressure", 0.1) == "▲ 0.1 (about the same)"
    assert views.trend_text("psychological_safety", -4.9) == "▼ 4.9 (about the same)"
    assert views.trend_text("participation", 9.9) == "▲ 9.9 (about the same)"
    assert views.trend_text("participation", 10.0) == "▲ 10.0 (better)"
    assert views.trend_text("psychological_safety", 5.3) == "▲ 5.3 (better)"
    assert views.trend_text("clear_incentives", -6.0) == "▼ 6.0 (worse)"
    assert views.trend_text("psychological_safety", 0.0) == "0.0 (no change)"
    assert views.trend_text("psychological_safety", None) == "no comparison"


def test_where_lower_is_better_the_words_say_what_moved():
    assert views.trend_text("time_pressure", 6.0) == "▲ 6.0 (worse: more pressure)"
    assert views.trend_text("time_pressure", -6.0) == "▼ 6.0 (better: less pressure)"
    assert views.trend_text("ambiguous_evaluation", 7.2) == "▲ 7.2 (worse: more ambiguity)"
    assert views.trend_text("ambiguous_evaluation", -7.2) == "▼ 7.2 (better: less ambiguity)"
    assert views.direction("time_pressure", 6.0) == "worse"
    assert views.direction("ambiguous_evaluation", -7.2) == "better"


def test_the_docs_give_each_levers_minimum_change():
    rows = dict(
        re.findall(r"^\| ([a-z ]+) \| (\d+) (?:percentage )?points \|$", DOCS.read_text(), re.M)
    )
    documented = {name: float(value) for name, value in rows.items()}
    actual = {info.label.lower(): info.min_change for info in views.LEVERS.values()}
    assert documented == actual


def test_the_csv_has_a_byte_order_mark_and_numbers_in_columns_of_their_own():
    table = Table(
        "week",
        "Levers",
        ["Lever", "Value", "Change"],
        split={1: ("Value", "±"), 2: ("Change", "Direction")},
    )
    table.rows.append(
        [
            Cell("=HYPERLINK(1)", header=True),
            Cell("62.3 ± 9.1", data=("62.3", "9.1")),
            views.trend_cell("time_pressure", -6.0),
        ]
    )
    table.rows.append(
        [Cell("Hidden", header=True), Cell("fewer than 5 people", True), Cell("no data", True)]
    )
    body = views.as_csv(["Title"], [table])
    assert body.startswith("\ufeff") and body.encode("utf-8")[:3] == b"\xef\xbb\xbf"
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert rows[3] == ["Lever", "Value", "±", "Change", "Direction"]
    # a formula is quoted, a negative number stays a number
    assert rows[4] == ["'=HYPERLINK(1)", "62.3", "9.1", "-6.0", "better"]
    assert rows[5] == ["Hidden", "fewer than 5 people", "", "no data", ""]


def test_figures_read_as_babel_writes_them_in_every_language():
    """The fast shape of a figure equals Babel's formatting, halves and thousands included."""
    values = [0.0, 0.05, 0.15, 0.25, 0.35, 2.45, 5.25, 62.34, 99.95, 100.0, 999.94, 999.96]
    values += [i / 100 for i in range(0, 100_000, 7)]
    for locale in ("en", "de", "fr"):
        with use_locale(locale):
            for value in values:
                assert wording.number(value) == format_decimal(value, 1), (locale, value)
                share = Decimal(str(value)) / 100  # exact: 0.35 is 0.35%, not 0.34999...%
                assert wording.number(value, "%") == format_percent(share, digits=1), value
