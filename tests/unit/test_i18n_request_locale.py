"""A request's locale is chosen once and kept for the rest of the request (one context-variable
read per ``current_locale()``), chosen again after the person changes their language, and
never carried into the next request or out of it (no database: a bare Flask app with the
gateway's language selection, the browser's ``Accept-Language`` deciding)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from babel import numbers
from flask import Flask
from flask_login import LoginManager

from services.gateway import i18n
from shared.i18n import current_locale, format_number, gettext, use_locale
from shared.i18n.formatting import babel_locale


@pytest.fixture
def app() -> Iterator[Flask]:
    app = Flask(__name__)
    LoginManager(app).user_loader(lambda _: None)  # nobody logged in: no database to ask
    i18n.init_app(app)
    yield app


@pytest.fixture
def choices(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each choice the selector made (the locale it chose), in order."""
    made: list[str] = []
    select = i18n._select

    def counted(context: Any) -> str:
        made.append(select(context))
        return made[-1]

    monkeypatch.setattr(i18n, "_select", counted)
    return made


def test_the_locale_is_chosen_once_per_request(app: Flask, choices: list[str]) -> None:
    seen: list[str] = []

    @app.get("/")
    def page() -> str:
        seen.extend(current_locale() for _ in range(50))
        return gettext("no data")

    client = app.test_client()
    assert client.get("/", headers={"Accept-Language": "de"}).get_data(True) == "keine Daten"
    assert seen == ["de"] * 50 and choices == ["de"]
    # The next request chooses again: its browser asks for French.
    assert client.get("/", headers={"Accept-Language": "fr"}).get_data(True) == "pas de données"
    assert choices == ["de", "fr"]
    assert current_locale() == "en"  # nothing kept once the request is over


def test_a_change_of_language_within_the_request_is_honoured(
    app: Flask, choices: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []

    @app.get("/")
    def page() -> str:
        said.append(gettext("no data"))
        # The person chose French (the account page's form): the rest of the page is in it.
        monkeypatch.setattr(i18n, "select_locale", lambda *_: "fr")
        i18n.refresh_locale()
        said.append(gettext("no data"))
        with use_locale("de"):  # a forced locale still wins over the kept one
            said.append(gettext("no data"))
        said.append(gettext("no data"))
        return ""

    app.test_client().get("/", headers={"Accept-Language": "en"})
    assert said == ["no data", "pas de données", "keine Daten", "pas de données"]
    assert choices == ["en", "fr"]


def test_a_failed_request_keeps_nothing(app: Flask, choices: list[str]) -> None:
    @app.get("/boom")
    def boom() -> str:
        assert current_locale() == "de"
        raise RuntimeError("boom")

    app.testing = False  # the error becomes a 500 page, the request is torn down
    assert app.test_client().get("/boom", headers={"Accept-Language": "de"}).status_code == 500
    assert current_locale() == "en"
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert current_locale() == "fr"
    assert current_locale() == "en" and choices == ["de", "fr"]


@pytest.mark.parametrize("locale", ["en", "de", "fr", "en-XA"])
def test_small_whole_numbers_read_as_babel_writes_them(locale: str) -> None:
    """``format_number`` skips Babel for 0-999 (a detail page formats some fifty counts):
    the same text as Babel's in every language, and Babel's still for the rest."""
    with use_locale(locale):
        shape = babel_locale()
        for value in (*range(1000), 1000, 12345, -5, 2.5, 10_000):
            assert format_number(value) == numbers.format_decimal(value, locale=shape), value
