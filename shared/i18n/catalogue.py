"""The catalogue: every ``.po`` file of a locale merged into one set of translations.

Each area of the product keeps its own file (``locales/de/portal.po``,
``locales/fr/dashboards.po`` ...), so work on one area never touches another's file; the
loader merges them when a locale is first used. No compiled ``.mo`` files: the ``.po`` files
are read (and compiled in memory) once per process.

A fuzzy or empty entry is not used (the English text shows instead); the catalogue checks in
``tests/unit/test_i18n_catalogue.py`` make sure there are none.
"""

from __future__ import annotations

import io
import re
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("en", "de", "fr")
"""The languages Compound ships, English (the source) first."""
PSEUDO = "en-XA"
"""The pseudo-locale of the tests: English with every catalogued text marked ``⟦…⟧``, so a
page rendered in it shows at once any text that did not go through the catalogue."""

LOCALE_DIR = Path(__file__).parent / "locales"

PLURAL_FORMS = {"de": (2, "(n != 1)"), "fr": (2, "(n > 1)")}
"""gettext's plural rules of each shipped language (French: one for 0 and 1; CLDR's third
French form, for round millions, is not used)."""


def plural_rules(catalogue: Catalog, locale: str) -> Catalog:
    """``catalogue`` with :data:`PLURAL_FORMS` of ``locale``."""
    if locale in PLURAL_FORMS:
        rules: Any = catalogue  # Babel keeps a header's rules in these two attributes
        rules._num_plurals, rules._plural_expr = PLURAL_FORMS[locale]
    return catalogue


def po_files(locale: str) -> list[Path]:
    """The catalogue files of ``locale``, in name order (one per area)."""
    folder = LOCALE_DIR / locale
    return sorted(folder.glob("*.po")) if folder.is_dir() else []


def read_catalogue(locale: str) -> Catalog:
    """Every area's file of ``locale`` merged into one catalogue (fuzzy entries kept)."""
    merged = plural_rules(Catalog(locale=locale), locale)
    for path in po_files(locale):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=locale):
                if message.id:
                    merged[message.id] = message
    return merged


@cache
def translations(locale: str) -> NullTranslations:
    """The translations of ``locale``: the merged catalogue, or the source for English.

    Parameters:
        locale: ``en``, ``de``, ``fr`` or :data:`PSEUDO` (anything else: English).

    Returns:
        An object with ``gettext``/``ngettext``/``pgettext``/``npgettext`` (and the ``u``
        names Flask-Babel calls).
    """
    if locale == PSEUDO:
        return PseudoTranslations()
    if locale not in LOCALES or locale == "en":
        return NullTranslations()
    catalogue = read_catalogue(locale)
    for message in list(catalogue):
        if message.id and (message.fuzzy or not _translated(message.string)):
            del catalogue[message.id]
    buffer = io.BytesIO()
    write_mo(buffer, catalogue)
    buffer.seek(0)
    return Translations(fp=buffer)


def _translated(string: Any) -> bool:
    if isinstance(string, tuple | list):
        return all(string)
    return bool(string)


_KEEP = re.compile(r"(%\([a-z_0-9]+\)[sdif]|%[sdif%]|<[^>]*>|&[a-z]+;|\{[a-z_0-9]*\})")
_ACCENTS = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "àƀçđéƒĝĥîĵķļɱñöþǫŕšţûṽŵẋýžÀƁÇĐÉƑĜĤÎĴĶĻṀÑÖÞǪŔŠŢÛṼŴẊÝŽ",
)


def pseudo(text: str) -> str:
    """``text`` marked as catalogued: ``⟦`` + its letters accented + ``⟧``; placeholders,
    tags and entities kept as they are."""
    parts = _KEEP.split(text)
    return "⟦" + "".join(p if i % 2 else p.translate(_ACCENTS) for i, p in enumerate(parts)) + "⟧"


class PseudoTranslations(NullTranslations):
    """Every message in its pseudo form (see :data:`PSEUDO`)."""

    def gettext(self, message: str) -> str:
        return pseudo(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return pseudo(msgid1 if n == 1 else msgid2)

    def pgettext(self, context: str, message: str) -> str:
        return pseudo(message)

    def npgettext(self, context: str, singular: str, plural: str, num: int) -> str:
        return pseudo(singular if num == 1 else plural)

    ugettext = gettext
    ungettext = ngettext
    upgettext = pgettext
    unpgettext = npgettext
