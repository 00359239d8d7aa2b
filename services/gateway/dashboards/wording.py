"""How a dashboard cell reads: a value with its margin, or why there is none (the words
pages, cards and CSVs share; the API carries the reason codes, docs/privacy.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain.weeks import parse_iso_week, week_start

NO_DATA = "no data"


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return NO_DATA
    return f"{value:.1f}{unit}"


def hidden(k: int) -> str:
    return f"fewer than {k} people"


def reasons(k: int) -> dict[str, str]:
    """Why a figure is hidden, in the words of pages and CSVs (the codes of the API)."""
    return {
        "no_data": NO_DATA_YET,
        "fewer_than_k": hidden(k),
        "protects_smaller_group": "hidden to protect a smaller group",
        "not_released": "week not released yet",
        "too_noisy": "too few people for its noise",
    }


NO_DATA_YET = "no data yet"
BETTER = "better"
WORSE = "worse"
ABOUT_THE_SAME = "about the same"
"""A change smaller than the lever's minimum change (docs/dashboards.md)."""
NO_CHANGE = "no change"
NO_COMPARISON = "no comparison"
TOO_NOISY = "too uncertain to read"
"""The reading of a shown figure whose 90% margin is wider than the nudges allow."""


def why(cell: Mapping[str, Any], k: int) -> str:
    """A hidden cell's text: its reason (a cell without one reads "fewer than k people")."""
    return reasons(k).get(cell.get("reason") or "fewer_than_k", hidden(k))


def with_margin(cell: Mapping[str, Any], unit: str = "") -> str:
    """A shown value with the half-width of its 90% interval, if it has one."""
    text = fmt(cell["value"], unit)
    margin = cell.get("margin")
    return text if margin is None else f"{text} ± {margin:.1f}"


def week_name(label: str) -> str:
    """An ISO week as a page names it: "Week 49, 30 Nov - 6 Dec" with an en dash (the ISO
    code stays in CSVs)."""
    monday = week_start(label)
    sunday = monday.fromordinal(monday.toordinal() + 6)
    _, number = parse_iso_week(label)
    first = f"{monday.day}" if monday.month == sunday.month else f"{monday.day} {monday:%b}"
    return f"Week {number}, {first} \N{EN DASH} {sunday.day} {sunday:%b}"
