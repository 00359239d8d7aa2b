"""The current locale and the gettext functions that use it.

The locale is, in order: the one :func:`use_locale` set (a worker writing to a recipient, a
test), the request's (the gateway registers its selector with :func:`set_request_locale`),
English. A request's locale, once chosen, is kept in a context variable
(:func:`keep_request_locale`) until the request ends: every later call is one read of it, not a
look-up through Flask's proxies (a dashboard page asks thousands of times).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from flask_babel.speaklater import LazyString

from shared.i18n.catalogue import translations

_forced: ContextVar[str | None] = ContextVar("compound_locale", default=None)
_kept: ContextVar[str | None] = ContextVar("compound_request_locale", default=None)
_request_locale: Callable[[], str | None] = lambda: None  # noqa: E731


def set_request_locale(selector: Callable[[], str | None]) -> None:
    """Register how a request's locale is found (the gateway, once): a callable giving the
    locale, or None outside a request."""
    global _request_locale
    _request_locale = selector


def keep_request_locale(locale: str | None) -> None:
    """Keep the current request's chosen locale (the gateway's selector, once per request);
    None forgets it (the request starts or ends, the person changed their language)."""
    _kept.set(locale)


def current_locale() -> str:
    """The locale messages are written in now: ``en``, ``de``, ``fr`` (or the pseudo-locale)."""
    forced = _forced.get()
    if forced is not None:
        return forced
    kept = _kept.get()
    if kept is not None:
        return kept
    return _request_locale() or "en"


@contextmanager
def use_locale(locale: str | None) -> Iterator[None]:
    """Write everything inside in ``locale`` (None or unknown: English).

    Example:
        with use_locale(recipient.locale):
            subject = gettext("Your week in Compound")
    """
    token = _forced.set(locale or "en")
    try:
        yield
    finally:
        _forced.reset(token)


def _fill(text: str, variables: dict[str, Any]) -> str:
    return text % variables if variables else text


def gettext(message: str, **variables: Any) -> str:
    """``message`` in the current locale, ``%(name)s`` filled from ``variables``."""
    return _fill(translations(current_locale()).ugettext(message), variables)


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """The singular or plural form for ``num`` in the current locale's plural rules;
    ``%(num)d`` is ``num``."""
    variables.setdefault("num", num)
    return _fill(translations(current_locale()).ungettext(singular, plural, num), variables)


def pgettext(context: str, message: str, **variables: Any) -> str:
    """``message`` in ``context`` (the same English word meaning two things)."""
    return _fill(translations(current_locale()).upgettext(context, message), variables)


def npgettext(context: str, singular: str, plural: str, num: int, **variables: Any) -> str:
    """:func:`ngettext` in ``context``."""
    variables.setdefault("num", num)
    found = translations(current_locale()).unpgettext(context, singular, plural, num)
    return _fill(found, variables)


def lazy_gettext(message: str, **variables: Any) -> LazyString:
    """:func:`gettext`, looked up each time the string is used (module constants)."""
    return LazyString(gettext, message, **variables)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it; translate it where it is
    shown (``gettext(value)``)."""
    return message
