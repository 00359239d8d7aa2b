"""``/history``'s correction forms and ``/pulse``'s answer scales built in Python
(``services/gateway/portal/markup.py``) read byte for byte as the Jinja markup they
replaced: closed and open, with and without errors, with text to escape and fields missing
(no database: a bare Flask app with the portal's blueprint and templates)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template_string
from markupsafe import Markup

import services.gateway.portal.history
import services.gateway.portal.markup  # noqa: F401  (correction_forms)
from services.gateway.portal.blueprint import bp
from services.gateway.portal.forms import FormState

TEMPLATES = Path(__file__).resolve().parents[2] / "services" / "gateway" / "templates"

# The template's markup before it moved to Python (history.html, session 35), verbatim.
JINJA = (Path(__file__).parent / "history_forms_before.html").read_text().removesuffix("\n")

PYTHON = """{% from "portal/_macros.html" import errors, invalid, csrf %}
{%- macro tactic_options(selected) %}<t {{ selected }}>{% endmacro -%}
{%- macro audience_options(selected) %}<a {{ selected }}>{% endmacro -%}
{%- set forms = correction_forms(token, label, tactic_options, audience_options) -%}
{{ forms(a, id, name, a.occurred_at|moment, state if open else none) }}"""

LABEL = {
    "correct": Markup("Correct <i>or</i> remove"),
    "tactic": "Tactic & more",
    "minutes": "Minutes",
    "audience": 'Who "noticed" it?',
    "note": "Note",
    "optional": "(optional)",
    "save": "Save",
    "remove": "Remove",
}
AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
ACTION = {"id": uuid.uuid4(), "tactic": "learning_bit", "minutes": 15, "audience": "team",
          "note": 'a <b>"note"</b> & more', "occurred_at": AT}  # fmt: skip
ERRORS = {"tactic": ["Pick one <please>"], "minutes": ["Too many", "Really"], "note": ["Long"],
          "audience": ["Whom?"]}  # fmt: skip


@pytest.mark.parametrize(
    "action, open, state",
    [
        (ACTION, False, FormState()),
        (ACTION, True, FormState()),
        ({**ACTION, "note": None}, False, FormState()),
        ({k: v for k, v in ACTION.items() if k != "note"}, True, FormState()),
        ({k: v for k, v in ACTION.items() if k not in ("minutes", "audience")}, False, None),
        (
            ACTION,
            True,
            FormState(values={"tactic": "x<y", "minutes": 'ab"c', "note": "n&"}, errors=ERRORS),
        ),
        (ACTION, True, FormState(values={"audience": "private"}, errors={"minutes": []})),
        (ACTION, False, FormState(values={"tactic": "other"}, errors=ERRORS)),
    ],
)
def test_the_forms_read_as_the_template_did(
    action: dict[str, Any], open: bool, state: FormState | None
) -> None:
    app = Flask(__name__, template_folder=str(TEMPLATES))
    app.register_blueprint(bp)
    app.jinja_env.filters["moment"] = lambda m: f"<{m:%a %d %b, %H:%M}>"  # no reader's language
    with app.test_request_context():
        given = {"a": action, "id": str(action["id"]), "name": Markup("Learning <bit>"),
                 "open": open, "state": state, "token": 'tok"en<', "label": LABEL}  # fmt: skip
        assert render_template_string(PYTHON, **given) == render_template_string(JINJA, **given)


LIKERT = """{% for value, label in scale %}
      <label><input type="radio" name="{{ key }}" value="{{ value }}"{% if state.values.get(key) == value|string %} checked{% endif %}><span class="n">{{ value }}</span><span class="l">{{ label }}</span></label>
      {% endfor %}"""  # noqa: E501  (pulse.html's loop before it moved to Python, verbatim)


@pytest.mark.parametrize("checked", [None, "", "3", "7", "8", 3, "<b>"])
def test_the_pulse_scale_reads_as_the_template_did(checked: object) -> None:
    app = Flask(__name__, template_folder=str(TEMPLATES))
    app.register_blueprint(bp)
    scale = [(1, "strongly <disagree>"), (2, Markup("2 <i>x</i>")), (3, "a & b"), (7, 'say "yes"')]
    with app.test_request_context():
        given = {"key": 'q"1<', "scale": scale, "state": FormState(values={'q"1<': checked})}
        python = "{{ likert_choices(key, scale, state.values.get(key)) }}"
        assert render_template_string(python, **given) == render_template_string(LIKERT, **given)


@pytest.mark.parametrize("ref", [str(uuid.uuid4()), "a b/c?d#e&f'g\"h<i>", "é%20ü", ""])
def test_an_anchor_reads_as_url_for_writes_it(ref: str) -> None:
    app = Flask(__name__, template_folder=str(TEMPLATES))
    app.register_blueprint(bp)
    with app.test_request_context():
        one = "{% set u = url_for('portal.history') %}"
        one += "<a href=\"{{ u }}#{{ ('action-' ~ r)|anchor }}\">"
        each = "<a href=\"{{ url_for('portal.history', _anchor='action-' ~ r) }}\">"
        assert render_template_string(one, r=ref) == render_template_string(each, r=ref)


ITEMS = (Path(__file__).parent / "history_items_before.html").read_text()
CALL = "(tactic_name, minutes_text, audience_text, proof_badge), editing, state)(actions) }}"
ACTIONS = [
    {**ACTION, "proof": "self"},
    {**ACTION, "id": uuid.uuid4(), "note": None, "proof": "confirmed", "tactic": "nope"},
    {**ACTION, "id": uuid.uuid4(), "note": "", "audience": "<x>", "proof": "awaiting"},
    {k: v for k, v in ACTION.items() if k not in ("note", "id")} | {"proof": "declined"},
]


@pytest.mark.parametrize("editing", [None, str(ACTIONS[1]["id"]), str(ACTIONS[0]["id"])])
@pytest.mark.parametrize("state", [FormState(), FormState(values={"note": "x"}, errors=ERRORS)])
def test_the_history_items_read_as_the_template_did(editing: str | None, state: FormState) -> None:
    app = Flask(__name__, template_folder=str(TEMPLATES))
    app.register_blueprint(bp)
    app.jinja_env.filters["moment"] = lambda m: f"<{m:%a %d %b, %H:%M}>"
    app.jinja_env.globals["_"] = lambda text, **kw: Markup(text) % kw if kw else text
    python = ITEMS.split("    {% for a in actions %}")[0] + "    {{ history_items(correction, "
    python += CALL + "\n  </ul>\n"
    given = {"actions": ACTIONS, "editing": editing, "state": state, "token": "t<k>",
             "label": LABEL, "tactics": {"learning_bit": {"label": "Learn & <grow>"}},
             "audiences": {"team": "Team <all>"},
             "proof_labels": {"self": "Self", "confirmed": "✓ <ok>", "awaiting": "Wait",
                              "declined": "No"}}  # fmt: skip
    with app.test_request_context():
        assert render_template_string(python, **given) == render_template_string(ITEMS, **given)
