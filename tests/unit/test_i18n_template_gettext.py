"""Templates' ``_`` and ``gettext`` (the gateway's :func:`template_gettext`, which remembers a
call without variables) write exactly what Jinja's own new-style gettext wrote, in every
language, escaped or not, with and without variables, ``%%`` included, on a repeated call
and after the language changed; and a remembered message never leaks into another language
(no database: a bare Flask app with the gateway's language selection)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, render_template_string
from flask_login import LoginManager
from jinja2 import Environment
from jinja2.runtime import Context

from services.gateway import i18n
from shared.i18n import LOCALES, PSEUDO, translations

TEMPLATE = (
    '{{ _("no data") }}|{{ gettext("no data") }}|{{ _("100%% sure") }}|'
    '{{ _("Hello %(name)s", name=name) }}|{% trans %}no data{% endtrans %}|'
    "{% trans n=n %}{{ n }} thing{% pluralize %}{{ n }} things{% endtrans %}|"
    '{% for m in ["no data", "<b>"] %}{{ _(m) }}{% endfor %}|'
    '{% autoescape false %}{% for m in ["<b>"] %}{{ _(m) }}{% endfor %}{% endautoescape %}'
)


@pytest.fixture
def app() -> Iterator[Flask]:
    app = Flask(__name__)
    app.config[i18n.PSEUDO_CONFIG] = True
    LoginManager(app).user_loader(lambda _: None)  # nobody logged in: no database to ask
    i18n.init_app(app)
    yield app


def stock(locale: str, autoescape: bool) -> str:
    """The template rendered by Jinja's own new-style gettext in ``locale``."""
    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    return env.from_string(TEMPLATE).render(name="<Ada>", n=3)


@pytest.mark.parametrize("locale", [*LOCALES, PSEUDO])
@pytest.mark.parametrize("autoescape", [True, False])
def test_templates_translate_as_jinja_did(app: Flask, locale: str, autoescape: bool) -> None:
    app.jinja_env.autoescape = autoescape
    expected = stock(locale, autoescape)
    with app.test_request_context(headers={"Accept-Language": locale}):
        for _ in range(3):  # the first call fills the memo, the next ones read it
            assert render_template_string(TEMPLATE, name="<Ada>", n=3) == expected


def test_a_remembered_message_stays_in_its_language(app: Flask) -> None:
    said = []
    for locale in ("de", "fr", "de", "en"):
        with app.test_request_context(headers={"Accept-Language": locale}):
            said.append(render_template_string('{{ _("no data") }}'))
    assert said == ["keine Daten", "pas de données", "keine Daten", "no data"]


@pytest.mark.parametrize("locale", [*LOCALES, PSEUDO])
def test_a_remembered_moment_reads_as_babel_writes_it(locale: str) -> None:
    """The portal's ``moment`` filter, remembered per language and moment: Babel's text, and
    the same instant in two zones reads apart."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from babel import dates

    from services.gateway.portal.blueprint import format_moment
    from shared.i18n import use_locale
    from shared.i18n.formatting import babel_locale

    utc = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    for moment in (utc, utc.astimezone(ZoneInfo("Europe/Berlin")), utc, utc.replace(minute=5)):
        with use_locale(locale):
            shape = babel_locale()
            day = dates.format_skeleton("MMMEd", moment, locale=shape)
            time = dates.format_time(moment, "short", tzinfo=moment.tzinfo, locale=shape)
            assert format_moment(moment) == str(shape.datetime_formats["medium"]).format(time, day)
    with use_locale("en"):
        assert format_moment(utc) != format_moment(utc.astimezone(ZoneInfo("Europe/Berlin")))


def test_a_call_in_a_loop_does_not_copy_the_context(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``_`` takes the evaluation context only: Jinja copies the whole context (with the
    variables set in the loop) for each call of a function that takes it, hundreds a page."""
    copies = []
    derived = Context.derived

    def counted(*args: Any, **kwargs: Any) -> Context:
        copies.append(args)
        return derived(*args, **kwargs)

    monkeypatch.setattr(Context, "derived", counted)
    with app.test_request_context(headers={"Accept-Language": "de"}):
        said = render_template_string(
            '{% for m in ["no data"] * 3 %}{% set n = m %}{{ _(n) }},{% endfor %}'
        )
    assert said == "keine Daten," * 3
    assert copies == []
