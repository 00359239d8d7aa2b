"""``/history``'s correction forms built in Python (``services/gateway/portal/markup.py``)
read byte for byte as the Jinja markup they replaced: closed and open, with and without
errors, with text to escape and fields missing (no database: a bare Flask app with the
portal's blueprint and templates)."""

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
