"""Manager lever dashboards: a team's levers week by week, each lever in detail, sub-teams side
by side, the organisation for admins, and a CSV of each page.

Pages read lever figures only through :func:`shared.releases.reads.read_team_releases` and
:func:`~shared.releases.reads.read_org_releases`: the weekly releases, protected (k-anonymity,
complementary suppression) and noised once per week, the same figures as the API. Who may see a
team is decided by the API's :func:`services.gateway.api.levers.authorize_team`. Employees
get 403 on every URL here; nothing here links to a person.
"""

from __future__ import annotations

from flask import Flask

from services.gateway.dashboards.blueprint import bp


def init_app(app: Flask) -> None:
    from services.gateway.dashboards import markup, pages, waiting  # noqa: F401

    app.register_blueprint(bp)
