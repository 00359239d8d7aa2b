"""Which language a reader gets: their own setting, then their browser's ``Accept-Language``,
then their organisation's default, then English."""

from __future__ import annotations

from shared.i18n.catalogue import LOCALES, PSEUDO

LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français"}
"""Each language by its own name (a menu of languages is read by someone who may not read
the current one)."""


def language_columns(person_id: str, tenant_id: str) -> str:
    """SQL for a reader's two language settings as the columns ``chosen`` (their own
    ``LanguageChosen``, in their ``preferences-`` stream) and ``organisation`` (the
    ``default_locale`` of the latest ``OrganizationSettingsChanged`` in the ``org-`` stream):
    each argument an SQL expression giving the id as text (NULL: no such person). Read from
    the log itself; nothing else keeps them."""
    return (
        "(SELECT data->>'locale' FROM events "
        f"WHERE stream_id = 'preferences-' || {person_id} "
        "AND type = 'LanguageChosen' ORDER BY version DESC LIMIT 1) AS chosen, "
        "(SELECT data->>'default_locale' FROM events "
        f"WHERE stream_id = 'org-' || {tenant_id} "
        "AND type = 'OrganizationSettingsChanged' ORDER BY version DESC LIMIT 1) AS organisation"
    )


_MAX_HEADER = 500
_MAX_RANGES = 20


def negotiate(accept_language: str | None, available: tuple[str, ...] = LOCALES) -> str | None:
    """The best of ``available`` for an ``Accept-Language`` header (RFC 9110), or None.

    ``de-CH;q=0.9, fr;q=0.8`` gives ``de``; ranges with ``q=0`` are refused; ``*`` matches
    nothing in particular (the organisation's default decides). Garbage, over-long headers
    and out-of-range weights are ignored, not errors.
    """
    if not accept_language or len(accept_language) > _MAX_HEADER:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")[:_MAX_RANGES]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        params = params.strip()
        if params:
            name, _, value = params.partition("=")
            if name.strip().lower() != "q":
                continue
            try:
                weight = float(value)
            except ValueError:
                continue
            if not 0.0 <= weight <= 1.0:
                continue
        if weight <= 0.0:
            continue
        primary = tag.strip().lower().replace("_", "-").split("-")[0]
        if tag.strip().lower() in ("en-xa", PSEUDO.lower()) and PSEUDO in available:
            primary = PSEUDO
        if primary in available:
            ranked.append((-weight, position, primary))
    return min(ranked)[2] if ranked else None


def select_locale(
    chosen: str | None, accept_language: str | None, organisation_default: str | None
) -> str:
    """The locale of one reader.

    Parameters:
        chosen: the person's own setting (None or "": automatic).
        accept_language: their browser's header (None outside a request).
        organisation_default: their organisation's default language (None: English).

    Returns:
        One of :data:`LOCALES`.
    """
    if chosen in LOCALES:
        return chosen
    found = negotiate(accept_language)
    if found is not None:
        return found
    return organisation_default if organisation_default in LOCALES else "en"
