"""base.html's header links, rendered once per locale, page and role
(:func:`services.gateway.context.navigation`), are the bytes the template's former inline
block wrote: every role, with and without the mailbox, on every page of the menu and off
it, in every language, on the first call and on the remembered ones (no database: a bare
Flask app with the gateway's language selection and the menu's endpoints)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Blueprint, Flask, render_template_string
from flask_login import LoginManager

from services.gateway import i18n
from shared.i18n import LOCALES, PSEUDO

TEMPLATES = Path(__file__).resolve().parents[2] / "services" / "gateway" / "templates"

# base.html's block before the navigation was rendered apart (kept verbatim)
FORMER = (Path(__file__).parent / "navigation_before.html").read_text() + "|"
NOW = "{{ navigation(current_user, mailbox_on) }}\n|"

PAGES = {
    "portal": [
        *("index", "plan", "experiments", "feedback", "outcomes", "capital", "pulse"),
        *("account", "my_data", "history"),
    ],
    "dashboards": ["index", "team"],
    "console": ["people", "audit"],
    "mailbox": ["index"],
}


@pytest.fixture
def app() -> Iterator[Flask]:
    app = Flask(__name__, template_folder=str(TEMPLATES))
    app.config[i18n.PSEUDO_CONFIG] = True
    LoginManager(app).user_loader(lambda _: None)  # nobody logged in: no database to ask
    i18n.init_app(app)
    for name, endpoints in PAGES.items():
        blueprint = Blueprint(name, __name__, url_prefix=f"/{name}")
        for endpoint in endpoints:
            blueprint.add_url_rule(f"/{endpoint}", endpoint, lambda: "")
        app.register_blueprint(blueprint)
    yield app


@pytest.mark.parametrize("locale", [*LOCALES, PSEUDO])
def test_the_navigation_is_the_former_blocks_bytes(app: Flask, locale: str) -> None:
    paths = [f"/{name}/{endpoint}" for name, endpoints in PAGES.items() for endpoint in endpoints]
    for path in [*paths, "/nowhere"]:
        for role, manager in (("employee", False), ("manager", True), ("admin", True)):
            for mailbox_on in (False, True):
                user = SimpleNamespace(role=role, is_manager=manager)
                for script_root in ("", "/compound"):
                    with app.test_request_context(
                        path, headers={"Accept-Language": locale}, base_url=f"http://x{script_root}"
                    ):
                        values = {"current_user": user, "mailbox_on": mailbox_on}
                        expected = render_template_string(FORMER, **values)
                        for _ in range(2):  # the first call renders, the next one remembers
                            assert render_template_string(NOW, **values) == expected
