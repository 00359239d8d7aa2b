"""The request and ``g`` themselves, behind Flask's context proxies.

Every attribute read through a werkzeug ``LocalProxy`` first fails a lookup on the proxy's
class (Python formats an ``AttributeError`` for it) before the proxy forwards it: a few
microseconds each. Hooks that run on every request and read several attributes take the
object once instead.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from flask import Request, current_app, g, request
from markupsafe import Markup

from shared.i18n import current_locale


class RequestGlobals(Protocol):
    """What the gateway uses of ``flask.g`` (Flask's class for it is private): attributes set
    and read freely, and ``get`` with a default."""

    def __getattr__(self, name: str) -> Any: ...

    def __setattr__(self, name: str, value: Any) -> None: ...

    def get(self, name: str, default: Any | None = None) -> Any: ...


def current_request() -> Request:
    """The request being handled (not its proxy)."""
    return cast(Request, cast(Any, request)._get_current_object())


def request_globals() -> RequestGlobals:
    """``flask.g`` of the current context (not its proxy)."""
    return cast(RequestGlobals, cast(Any, g)._get_current_object())


class _Named:
    """What the navigation template reads of the request and of the caller."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


_NAVIGATION_SIZE = 1024  # locales x pages x roles; beyond it (never, in practice) no memo


def navigation(user: Any, mailbox_on: bool) -> Markup:
    """The page header's navigation and account link (``_navigation.html``), rendered once
    per locale, script root, page, role and mailbox setting: the same seven translated links
    on every page otherwise cost a dozen ``url_for`` and ``gettext`` calls a request."""
    req = current_request()
    here = req.endpoint or ""
    key = (current_locale(), req.script_root, here, user.is_manager, user.role, mailbox_on)
    kept_by_app: dict[tuple[Any, ...], Markup] = current_app.extensions.setdefault(
        "compound_navigation", {}
    )  # per app: two apps of one process (tests) have their own URLs
    kept = kept_by_app.get(key)
    if kept is None:
        template = current_app.jinja_env.get_template("_navigation.html")
        kept = Markup(
            template.render(
                request=_Named(endpoint=here),
                current_user=_Named(is_manager=user.is_manager, role=user.role),
                mailbox_on=mailbox_on,
            )
        )
        if len(kept_by_app) < _NAVIGATION_SIZE:
            kept_by_app[key] = kept
    return kept
