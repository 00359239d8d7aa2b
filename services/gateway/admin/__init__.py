"""The admin console: server-rendered pages under ``/admin`` (Jinja + htmx, the portal's
look) to run an organisation from the browser.

Every change goes through the organisation's commands (shared/commands), so it is an event
in the log like the API's and the CLI's: ``people`` (search, invite one or many, role, team,
leaving, erasure), ``invites`` (a pasted list or a CSV, previewed row by row before anything
is written), ``sent`` (what an invitation form sent, for the page it redirects to),
``teams`` (the tree, sizes against k, managers), ``settings`` (k, pulse cadence, second
factor), ``audit`` (who changed what, from the log, as a page or CSV), ``labels`` (what the
pages show for roles, statuses and event types). Forms post their CSRF token; bad input
re-renders the page with 422 and the messages next to the fields; a form that creates
something answers with a redirect (post-redirect-get).
"""

from __future__ import annotations

from flask import Flask

from services.gateway.admin.blueprint import bp


def init_app(app: Flask) -> None:
    from services.gateway.admin import (  # noqa: F401
        audit,
        integrations,
        invites,
        labels,
        operations,
        people,
        sent,
        settings,
        teams,
    )

    app.register_blueprint(bp)
    app.before_request_funcs.setdefault(None, []).insert(0, invites.allow_larger_lists)
