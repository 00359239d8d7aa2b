"""Dates, weeks, numbers and percentages in the current locale (Babel's CLDR data).

Pages show a week as "Week 49, 30 Nov - 6 Dec" ("KW 49, 30. Nov. - 6. Dez.",
"Semaine 49, 30 nov. - 6 déc."), an en dash between the days; the ISO code (``2026-W49``)
stays in the API and the CSV. English is formatted as British English (day before month), as
the product is written.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from functools import cache, lru_cache

from babel import Locale, dates, numbers

from shared.domain.weeks import parse_iso_week
from shared.i18n.catalogue import PSEUDO
from shared.i18n.context import current_locale, gettext, ngettext, use_locale

_FORMAT_LOCALES = {"en": "en_GB", "de": "de_DE", "fr": "fr_FR", PSEUDO: "en_GB"}


def babel_locale(locale: str | None = None) -> Locale:
    """The Babel locale that formats for ``locale`` (default: the current one)."""
    return _babel(locale or current_locale())


@cache
def _babel(locale: str) -> Locale:
    return Locale.parse(_FORMAT_LOCALES.get(locale, "en_GB"))


@cache
def _number_pattern(locale: str, kind: str, digits: int) -> numbers.NumberPattern:
    """A number pattern parsed once per language (Babel parses its pattern text on every
    call: two thirds of a figure's formatting, and pages format thousands)."""
    if kind == "percent":
        text = _babel(locale).percent_formats[None].pattern
        if digits:
            text = text.replace("0", "0." + "0" * digits, 1)
    elif kind == "decimal":
        text = "#,##0" + ("." + "0" * digits if digits else "")
    else:  # the locale's own decimal format
        return _babel(locale).decimal_formats[None]
    return numbers.parse_pattern(text)


def _monday(week: str | tuple[int, int] | date) -> tuple[int, int, date]:
    if isinstance(week, str):
        year, number = parse_iso_week(week)
    elif isinstance(week, tuple):
        year, number = week
    else:
        year, number, _ = week.isocalendar()
    return year, number, date.fromisocalendar(year, number, 1)


def format_week(week: str | tuple[int, int] | date, *, year: bool = False) -> str:
    """A week for people: "Week 49, 30 Nov - 6 Dec" (an en dash between the days).

    Parameters:
        week: an ISO week code (``2026-W49``), ``(year, week)``, or a day of the week.
        year: add the year ("Week 1, 29 Dec 2025 - 4 Jan 2026").

    Raises:
        ValueError: not an ISO week (``2026-W54``).
    """
    _, number, monday = _monday(week)
    return _week_text(current_locale(), monday, number, year)


@lru_cache(maxsize=4096)
def _week_text(locale: str, monday: date, number: int, year: bool) -> str:
    """:func:`format_week` once per language and week (Babel's interval formatting takes
    about 50 µs, and a dashboard page names some forty weeks)."""
    sunday = monday + timedelta(days=6) if monday <= date.max - timedelta(days=6) else date.max
    skeleton = "yMMMd" if year else "MMMd"
    with use_locale(locale):
        span = dates.format_interval(monday, sunday, skeleton, locale=babel_locale())
        return gettext("Week %(number)d, %(dates)s", number=number, dates=span)


def week_label(week: str | tuple[int, int] | date) -> str:
    """A week in a few characters, for table headings and charts: "Week 49"."""
    _, number, _ = _monday(week)
    return gettext("Week %(number)d", number=number)


def count_weeks(count: int) -> str:
    """A number of weeks: "1 week", "3 weeks"."""
    return ngettext("%(num)d week", "%(num)d weeks", count)


def format_date(day: date | datetime, format: str = "medium") -> str:
    """A day: ``medium`` "30 Nov 2026", ``long``, ``full`` or a CLDR skeleton-free pattern."""
    if isinstance(day, datetime):
        day = day.date()
    return dates.format_date(day, format=format, locale=babel_locale())


def format_datetime(
    moment: datetime,
    format: str = "medium",
    zone: tzinfo | str | None = None,
) -> str:
    """A moment in ``zone`` (default UTC): "30 Nov 2026, 14:05:00" (``medium``)."""
    return dates.format_datetime(
        moment,
        format=format,
        tzinfo=dates.get_timezone(zone) if isinstance(zone, str) else zone,
        locale=babel_locale(),
    )


def format_number(value: int | float | Decimal) -> str:
    """A whole number with the locale's grouping: "10,000", "10.000", "10 000"."""
    if type(value) is int and 0 <= value < 1000:
        return str(value)  # no grouping and no sign: the same in every locale, without Babel
    locale = current_locale()
    return _number_pattern(locale, "number", 0).apply(value, _babel(locale))


def format_decimal(value: float | Decimal, digits: int = 1) -> str:
    """A number with exactly ``digits`` decimals: "4.5", "4,5"."""
    return _formatted(current_locale(), "decimal", digits, value)


def format_percent(fraction: float | Decimal, digits: int = 0) -> str:
    """A share (0.42) as a percentage: "42%", "42 %", "42 %"."""
    return _formatted(current_locale(), "percent", digits, fraction)


def _formatted(locale: str, kind: str, digits: int, value: float | Decimal) -> str:
    """Babel's text for ``value``; a non-zero float or int once per language, pattern and
    value (a capital page formats some seventy scores and shares, mostly the same few)."""
    if type(value) in (float, int) and value != 0:  # a zero keeps its sign: not remembered
        return _remembered(locale, kind, digits, value)
    return _number_pattern(locale, kind, digits).apply(value, _babel(locale))


@lru_cache(maxsize=4096, typed=True)
def _remembered(locale: str, kind: str, digits: int, value: float) -> str:
    return _number_pattern(locale, kind, digits).apply(value, _babel(locale))
