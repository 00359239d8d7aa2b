"""The portal blueprint, its access check and the two formats its pages add to
shared/i18n's filters: the modules of the package register their routes on it, and
:func:`services.gateway.portal.init_app` registers it on the app."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from babel import Locale, dates
from flask import Blueprint, request
from flask_login import current_user

from shared.i18n.formatting import babel_locale

bp = Blueprint("portal", __name__)
PUBLIC = frozenset({"portal.erased"})


@bp.before_request
def _login_required() -> Any:
    if not current_user.is_authenticated and request.endpoint not in PUBLIC:
        from services.gateway.auth import login_manager

        return login_manager.unauthorized()
    return None


@bp.app_template_filter("moment")
def format_moment(moment: datetime) -> str:
    """When an entry happened, in the reader's language: "Mon 7 Dec, 09:30",
    "Mo., 7. Dez., 09:30", "lun. 7 déc. 09:30" (UTC, as the journal stores it)."""
    return _moment_text(babel_locale(), moment, moment.tzinfo)


@lru_cache(maxsize=4096)
def _moment_text(locale: Locale, moment: datetime, zone: tzinfo | None) -> str:
    """:func:`format_moment` once per language and moment (a page names each entry's
    moment twice; ``zone`` is part of the key: equal moments in two zones read apart)."""
    day = dates.format_skeleton("MMMEd", moment, locale=locale)
    time = dates.format_time(moment, "short", tzinfo=zone, locale=locale)
    return str(locale.datetime_formats["medium"]).format(time, day)


@bp.app_template_filter("day_span")
def format_day_span(first: date, after_last: date) -> str:
    """Days from ``first`` to the day before ``after_last`` (an end exclusive, as
    experiments keep it): "7 Dec 2026 - 3 Jan 2027" (an en dash between the days)."""
    last = max(first, after_last - timedelta(days=1))
    return dates.format_interval(first, last, "yMMMd", locale=babel_locale())


@bp.app_template_global("once_per_value")
def once_per_value(render: Any) -> Any:
    """``render`` (a macro), its output remembered per argument for the caller's page:
    a page that renders the same block for many entries (``/history``'s select options, one
    of a few per action) renders each distinct one once. The memo lives as long as the
    returned callable, a variable of the page being rendered: nothing crosses requests."""
    kept: dict[tuple[Any, ...], Any] = {}

    def remembered(*args: Any) -> Any:
        try:
            return kept[args]
        except KeyError:
            kept[args] = found = render(*args)
            return found
        except TypeError:  # an unhashable argument: rendered each time
            return render(*args)

    return remembered
