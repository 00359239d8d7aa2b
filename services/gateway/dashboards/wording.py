"""How a dashboard cell reads: a value with its margin, or why there is none (the words
pages, cards and CSVs share, in the reader's language; the API carries the reason codes,
docs/privacy.md). Numbers on pages are formatted for the reader's language ("62,3 ± 9,1");
the CSV writes them plainly (:func:`plain`)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from typing import Any

from shared.i18n import (
    N_,
    current_locale,
    format_decimal,
    format_number,
    format_percent,
    gettext,
    ngettext,
    use_locale,
)

TENTH = Decimal("0.1")
NO_DATA = N_("no data")
NO_DATA_YET = N_("no data yet")
TOO_NOISY = N_("too uncertain to read")
"""The reading of a shown figure whose 90% margin is wider than the nudges allow."""
BETTER = N_("better")
WORSE = N_("worse")
ABOUT_THE_SAME = N_("about the same")
"""A change smaller than the lever's minimum change (docs/dashboards.md)."""
NO_CHANGE = N_("no change")
NO_COMPARISON = N_("no comparison")
BANDS = {"good": N_("good"), "watch": N_("watch"), "concern": N_("concern")}
"""A shown figure's reading against the nudge thresholds."""


def number(value: float, unit: str = "") -> str:
    """A figure on a page, one decimal: "62.3" ("62,3"), a percentage "62.3%" ("62,3 %").

    A heat map of a thousand teams formats ten thousand of them: figures between 0 and
    1,000 (all of a lever's) take the locale's shape, learnt once from Babel, instead of a
    call to Babel each (about 60 µs)."""
    if not 0 <= value < 999.95:  # under 1,000 once rounded: no grouping
        return format_percent(value / 100.0, digits=1) if unit == "%" else format_decimal(value, 1)
    comma, percent = _shape(current_locale())
    exact = repr(value)
    if exact[-1] == "5" and exact.find(".") == len(exact) - 3:  # a tie: round as Babel does
        text = str(Decimal(exact).quantize(TENTH, ROUND_HALF_EVEN))
    else:
        text = f"{value:.1f}"
    text = text.replace(".", comma)
    return percent.replace("#", text) if unit == "%" else text


@cache
def _shape(locale: str) -> tuple[str, str]:
    """The locale's decimal sign and its percentage with "#" for the number ("#%", "# %")."""
    with use_locale(locale):
        comma = format_decimal(1.5, 1)[1]
        return comma, format_percent(0.5, digits=1).replace(f"50{comma}0", "#")


def loose(value: float, unit: str = "") -> str:
    """A figure without trailing zeros ("2.5", "12"), a percentage with one decimal."""
    return number(value, unit) if unit == "%" else format_number(round(value, 3))


def plain(value: float | None, digits: int = 1) -> str:
    """A number as the CSV writes it: "62.3", "-6.0" (a spreadsheet reads it in any
    language), empty for none."""
    return "" if value is None else f"{value:.{digits}f}"


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return gettext(NO_DATA)
    return number(value, unit)


def hidden(k: int) -> str:
    return ngettext("fewer than %(num)d person", "fewer than %(num)d people", k)


def reasons(k: int) -> dict[str, str]:
    """Why a figure is hidden, in the words of pages and CSVs (the codes of the API)."""
    return {
        "no_data": gettext(NO_DATA_YET),
        "fewer_than_k": hidden(k),
        "protects_smaller_group": gettext("hidden to protect a smaller group"),
        "not_released": gettext("week not released yet"),
        "too_noisy": gettext("too few people for its noise"),
    }


def why(cell: Mapping[str, Any], k: int) -> str:
    """A hidden cell's text: its reason (a cell without one reads "fewer than k people")."""
    known = _reasons(current_locale(), k)
    return known.get(cell.get("reason") or "fewer_than_k", known["fewer_than_k"])


@cache
def _reasons(locale: str, k: int) -> dict[str, str]:
    """:func:`reasons` in ``locale``, once (a heat map of a thousand teams asks often)."""
    with use_locale(locale):
        return reasons(k)


def with_margin(cell: Mapping[str, Any], unit: str = "") -> str:
    """A shown value with the half-width of its 90% interval, if it has one."""
    text = fmt(cell["value"], unit)
    margin = cell.get("margin")
    return text if margin is None else f"{text} ± {number(margin)}"


def band_word(band: str | None) -> str:
    """A reading ("good", "watch", "concern") in the reader's language."""
    return gettext(BANDS[band]) if band in BANDS else ""
