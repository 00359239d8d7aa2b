"""``create_app``: the one place the gateway is wired together, in one readable order."""

from __future__ import annotations

from collections.abc import Callable
from inspect import CO_COROUTINE
from types import FunctionType, MethodType
from typing import Any

from flask import Flask

from services.gateway import (
    admin,
    api,
    auth,
    calendar,
    confirm,
    dashboards,
    feedback,
    health,
    i18n,
    invitation,
    logs,
    mailbox,
    metrics,
    msteams,
    portal,
    problems,
    reset,
    scim,
    second_factor,
    security,
    session_end,
    slack,
    sso,
)
from services.gateway import resources as resources_module
from shared.database import one_autocommit_connection
from shared.settings import Settings

MAX_BODY_BYTES = 1024 * 1024


class Gateway(Flask):
    """Flask, asking less on every request whether a hook is a coroutine function, and
    taking one pooled connection for a request's autocommit statements.

    Flask passes each hook and view through :meth:`ensure_sync` on every request (a dozen
    times for an API call), and ``inspect.iscoroutinefunction`` unwraps and inspects each
    one. A plain function or method tells by its code flags at once.
    """

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if (
            type(func) in (FunctionType, MethodType)
            and not func.__code__.co_flags & CO_COROUTINE
            and getattr(func, "_is_coroutine_marker", None) is None  # markcoroutinefunction
        ):
            return func
        return super().ensure_sync(func)

    def full_dispatch_request(self) -> Any:
        """The request, its autocommit statements (the caller's look-up, a single append ...)
        on one pooled connection (shared.database.one_autocommit_connection)."""
        with one_autocommit_connection():
            return super().full_dispatch_request()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the gateway.

    Parameters:
        config: Flask config overrides; ``COMPOUND_SETTINGS`` may hold a :class:`Settings`
            (default: read from the environment).
    """
    app = Gateway(__name__)
    app.config.from_mapping(COMPOUND_SETTINGS=None, MAX_CONTENT_LENGTH=MAX_BODY_BYTES)
    if config:
        app.config.update(config)
    if app.config["COMPOUND_SETTINGS"] is None:
        app.config["COMPOUND_SETTINGS"] = Settings.from_env()

    logs.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    resources_module.init_app(app)
    problems.init_app(app)
    auth.init_app(app)
    invitation.init_app(app)
    reset.init_app(app)
    session_end.init_app(app)
    second_factor.init_app(app)
    sso.init_app(app)
    api.init_app(app)
    feedback.init_app(app)
    confirm.init_app(app)
    portal.init_app(app)
    dashboards.init_app(app)
    admin.init_app(app)
    calendar.init_app(app)
    mailbox.init_app(app)
    slack.init_app(app)
    msteams.init_app(app)
    scim.init_app(app)
    health.init_app(app)
    metrics.init_app(app)
    return app
