"""The employee portal: server-rendered pages (Jinja + htmx) over the same commands and read
functions as the API, so validation and authorization have one path.

One module per part of the seed's field guide: ``today`` (log, undo, outcomes), ``plans``
(week plan, experiments), ``asks`` (micro-feedback), ``capital`` (my capital), ``history``
(my actions, corrected or removed any time), ``account`` (pulse, password, tokens, my
data), ``absences`` (declared leave, on the account page). Every form posts with its CSRF
token (Flask-WTF's
``CSRFProtect`` covers the whole blueprint); bad input re-renders the page with 422 and the
messages next to their fields, and writes nothing.
"""

from __future__ import annotations

from flask import Flask

from services.gateway.portal.blueprint import bp


def init_app(app: Flask) -> None:
    from services.gateway.portal import (  # noqa: F401
        absences,
        account,
        asks,
        capital,
        history,
        markup,
        plans,
        second_factor,
        today,
    )

    app.register_blueprint(bp)
