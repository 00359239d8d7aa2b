"""``once_per_value`` (the portal's template global): a macro's output remembered per
argument for one page, the same text as calling the macro each time, and nothing kept
between two renderings (no database: a bare Flask app with the portal's blueprint)."""

from __future__ import annotations

from flask import Flask, render_template_string

from services.gateway.portal.blueprint import bp, once_per_value


def test_each_value_is_rendered_once_and_reads_the_same() -> None:
    app = Flask(__name__)
    app.register_blueprint(bp)
    rendered = []

    def option(selected: object) -> str:
        rendered.append(selected)
        return f"<{selected}>"

    remembered = once_per_value(option)
    assert [remembered(s) for s in ("a", "b", "a", "a", "b")] == ["<a>", "<b>", "<a>", "<a>", "<b>"]
    assert rendered == ["a", "b"]
    assert remembered(["a"]) == "<['a']>" and remembered(["a"]) == "<['a']>"  # unhashable
    assert rendered == ["a", "b", ["a"], ["a"]]
    plain = "{% macro option(s) %}<{{ s }}{% if s == chosen %} selected{% endif %}>{% endmacro %}"
    with app.test_request_context():
        for chosen in ("a", "b"):  # a second page: its own memo, its own variables
            once = render_template_string(
                plain + "{% set r = once_per_value(option) %}"
                "{% for s in picks %}{{ r(s) }}{% endfor %}",
                picks=["a", "b", "a", "<c>"],
                chosen=chosen,
            )
            each = render_template_string(
                plain + "{% for s in picks %}{{ option(s) }}{% endfor %}",
                picks=["a", "b", "a", "<c>"],
                chosen=chosen,
            )
            assert once == each
            assert ("<a selected>" in once) == (chosen == "a") and "&lt;c&gt;" in once
