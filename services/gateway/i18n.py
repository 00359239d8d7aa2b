"""Languages in the gateway: Flask-Babel, with Compound's catalogue and locale selection.

A request's locale (:func:`request_locale`): the person's own choice, then the browser's
``Accept-Language``, then the organisation's default, then English; chosen once per request,
and only when something is translated (an API call that succeeds reads nothing); kept for the
rest of the request in :mod:`shared.i18n.context`'s context variable, forgotten when a
request starts and when it ends. Pages that
know the organisation without a login (a colleague's feedback link) call
:func:`set_page_tenant` so its default applies.

Templates get ``_``, ``gettext``, ``ngettext``, ``pgettext`` (Jinja's i18n extension,
new style: ``{{ _("Hello %(name)s", name=name) }}`` escapes ``name``), ``{% trans %}``,
the filters ``week``, ``week_label``, ``date``, ``datetime``, ``number``, ``decimal``,
``percent``, and the globals ``current_locale`` and ``LANGUAGE_NAMES``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from flask import Flask, has_request_context, request_started
from flask_babel import Babel, Domain
from flask_login import current_user
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from services.gateway.context import current_request, navigation, request_globals
from shared.i18n import (
    LANGUAGE_NAMES,
    LOCALES,
    PSEUDO,
    current_locale,
    format_date,
    format_datetime,
    format_decimal,
    format_number,
    format_percent,
    format_week,
    negotiate,
    select_locale,
    translations,
    week_label,
)
from shared.i18n.context import keep_request_locale, set_request_locale
from shared.i18n.preferences import language_settings

PSEUDO_CONFIG = "PSEUDO_LOCALE"
"""Flask config: when true, ``Accept-Language: en-XA`` gives the pseudo-locale (tests)."""


def set_page_tenant(tenant_id: Any) -> None:
    """The organisation of a page served without a login (its default language applies)."""
    request_globals().locale_tenant = tenant_id


def refresh_locale() -> None:
    """Choose the locale again (the person just changed their language)."""
    context = request_globals()
    context.compound_locale = None
    context.compound_languages = None
    keep_request_locale(None)
    if hasattr(context, "_flask_babel"):
        del context._flask_babel


def request_locale() -> str | None:
    """The current request's locale (None outside a request)."""
    if not has_request_context():
        return None
    context = request_globals()
    found = context.get("compound_locale")
    if found is None:
        found = _select(context)
        context.compound_locale = found
    keep_request_locale(found)
    return found


def _forget_locale(*_: Any, **__: Any) -> None:
    """A request starts or ends: no locale is kept (a thread serves many requests)."""
    keep_request_locale(None)


def _select(context: Any) -> str:
    request = current_request()
    header = request.headers.get("Accept-Language")
    app_config = _config()
    if app_config.get(PSEUDO_CONFIG) and negotiate(header, (PSEUDO,)) == PSEUDO:
        return PSEUDO
    user = context.get("caller")
    if user is None:
        loaded = current_user._get_current_object() if current_user else None
        user = loaded if getattr(loaded, "is_authenticated", False) else None
    tenant_id = getattr(user, "tenant_id", None) or context.get("locale_tenant")
    chosen = organisation = None
    if tenant_id is not None:
        # the database is down: the page says so, in some language
        with contextlib.suppress(SQLAlchemyError):
            chosen, organisation = request_language_settings(
                tenant_id, getattr(user, "person_id", None)
            )
    return select_locale(chosen, header, organisation)


def keep_language_settings(
    tenant_id: Any, person_id: Any, settings: tuple[str | None, str | None]
) -> None:
    """The person's language settings, read already (with their session): what
    :func:`request_language_settings` answers for them for the rest of the request."""
    request_globals().compound_languages = ((tenant_id, person_id), settings)


def request_language_settings(tenant_id: Any, person_id: Any) -> tuple[str | None, str | None]:
    """:func:`shared.i18n.preferences.language_settings` (the person's choice, the
    organisation's default), read once a request (the locale's selection and the account
    page's language form both need it); :func:`refresh_locale` forgets it."""
    from services.gateway.resources import resources  # the app's engine

    context = request_globals()
    key = (tenant_id, person_id)
    kept = context.get("compound_languages")
    if kept is not None and kept[0] == key:
        return kept[1]
    with resources().engine.connect() as conn:
        found = language_settings(conn, tenant_id, person_id)
    context.compound_languages = (key, found)
    return found


_MEMO: dict[tuple[str, str, bool], str] = {}
_MEMO_SIZE = 8192  # messages x locales; beyond it (a template translating data) no memo


@pass_eval_context
def template_gettext(__context: EvalContext, __string: str, **variables: Any) -> str:
    """Jinja's new-style ``gettext`` (``jinja2.ext``'s, the same output): the translation,
    as Markup when the template autoescapes, with ``%`` applied to ``variables`` (always,
    so ``%%`` reads ``%``). A call without variables is remembered per locale, message and
    escaping: the catalogues do not change while the process runs. It takes the evaluation
    context only (Jinja's takes the whole context, which a call in a loop copies first)."""
    locale = current_locale()
    autoescape = __context.autoescape
    key = (locale, __string, autoescape)
    if not variables:
        kept = _MEMO.get(key)
        if kept is not None:
            return kept
    found = translations(locale).ugettext(__string)
    text = (Markup(found) if autoescape else found) % variables
    if not variables and len(_MEMO) < _MEMO_SIZE:
        _MEMO[key] = text
    return text


def _config() -> Any:
    from flask import current_app

    return current_app.config


def _babel_locale() -> str:
    locale = current_locale()
    return "en" if locale == PSEUDO else locale


class _CompoundDomain(Domain):
    """Flask-Babel's domain, with Compound's merged catalogue (:mod:`shared.i18n.catalogue`)."""

    def get_translations(self) -> Any:
        return translations(current_locale())


def init_app(app: Flask) -> None:
    babel = Babel(configure_jinja=False)
    babel.init_app(app, locale_selector=_babel_locale)
    babel.domain_instance = _CompoundDomain()
    set_request_locale(request_locale)
    request_started.connect(_forget_locale, app)
    app.teardown_request(_forget_locale)
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        # Jinja fills the placeholders itself (escaping the values), so these only look up.
        gettext=lambda s: translations(current_locale()).ugettext(s),
        ngettext=lambda s, p, n: translations(current_locale()).ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations(current_locale()).upgettext(c, s),
        npgettext=lambda c, s, p, n: translations(current_locale()).unpgettext(c, s, p, n),
    )
    # ``_`` and ``gettext``: Jinja's new-style gettext, the result of a call without
    # variables remembered per locale and message (a page translates hundreds of strings).
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext)
    app.jinja_env.filters.update(
        week=format_week,
        week_label=week_label,
        date=format_date,
        datetime=format_datetime,
        number=format_number,
        decimal=format_decimal,
        percent=format_percent,
    )
    app.jinja_env.globals.update(
        current_locale=current_locale, LANGUAGE_NAMES=LANGUAGE_NAMES, LOCALES=LOCALES
    )
    # base.html's header links, rendered once per locale, page and role
    app.jinja_env.globals.update(navigation=navigation)
