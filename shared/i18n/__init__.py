"""Languages: every user-facing string goes through the catalogue, in the reader's language.

English is the source language (each message's id is its English text); German and French
ship complete. The catalogue is the ``.po`` files under ``shared/i18n/locales/<locale>/``,
one per area of the product, merged when first used (:mod:`shared.i18n.catalogue`).

One API for pages, API errors, e-mails and chat messages, in a request or not:

- :func:`gettext` (alias ``_``), :func:`ngettext`, :func:`pgettext`: a message in the
  current locale, ``%(name)s`` placeholders filled from keyword arguments (``ngettext``
  also fills ``%(num)d``);
- :func:`lazy_gettext`: the same, looked up each time it is shown (module constants);
- :func:`N_`: marks a string for the catalogue without translating it (tactic names, lever
  labels); translate it where it is shown, ``gettext(value)``;
- :func:`use_locale`: the locale of everything built inside (a worker writing to one
  recipient); a request's locale comes from :func:`shared.i18n.selection.select_locale`;
- the formatting of dates, weeks, numbers and percentages: :mod:`shared.i18n.formatting`.
"""

from __future__ import annotations

from shared.i18n.catalogue import LOCALES, PSEUDO, translations
from shared.i18n.context import (
    N_,
    current_locale,
    gettext,
    lazy_gettext,
    ngettext,
    npgettext,
    pgettext,
    use_locale,
)
from shared.i18n.formatting import (
    count_weeks,
    format_date,
    format_datetime,
    format_decimal,
    format_number,
    format_percent,
    format_week,
    week_label,
)
from shared.i18n.selection import LANGUAGE_NAMES, negotiate, select_locale

_ = gettext

__all__ = [
    "LANGUAGE_NAMES",
    "LOCALES",
    "N_",
    "PSEUDO",
    "_",
    "count_weeks",
    "current_locale",
    "format_date",
    "format_datetime",
    "format_decimal",
    "format_number",
    "format_percent",
    "format_week",
    "gettext",
    "lazy_gettext",
    "negotiate",
    "ngettext",
    "npgettext",
    "pgettext",
    "select_locale",
    "translations",
    "use_locale",
    "week_label",
]
