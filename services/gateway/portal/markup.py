"""``/history``'s correction forms (each action's ``<details>``) and ``/pulse``'s answer
scales, built in Python.

The page lists up to 300 actions, each with a correction form and a removal form: the Jinja
loop over them (two ``url_for``, two CSRF macros, four fields with their error branches per
action) took about two thirds of the page's time. Every text is escaped as Jinja's
autoescape would, and the markup is the template's, byte for byte
(``tests/unit/test_history_markup.py`` compares it with the Jinja rendering it replaced).
``/pulse`` has ten statements of seven answers each: seventy radio buttons, each with three
escaped values and a branch. ``/capital``'s explanations link some thirty contributions:
one ``url_for`` per list and the :func:`anchor` filter.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from flask import url_for
from markupsafe import Markup, escape

from services.gateway.portal.blueprint import bp
from services.gateway.portal.forms import FormState

ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"
"""What ``url_for`` leaves unquoted in an anchor (Flask 3's ``_url_quote`` call)."""
ZERO = str(uuid.UUID(int=0))
"""The action id in the forms' addresses that each action's id replaces (two ``url_for``
a page)."""


class CorrectionForms:
    """The page's correction forms: what every action shares, read once a page."""

    def __init__(
        self,
        token: str,
        label: Mapping[str, Any],
        tactic_options: Callable[[Any], Any],
        audience_options: Callable[[Any], Any],
    ) -> None:
        self.csrf = f'<input type="hidden" name="csrf_token" value="{escape(token)}">'
        self.label = {k: escape(v) for k, v in label.items()}
        self.tactic_options = tactic_options
        self.audience_options = audience_options
        self.correct_url = str(escape(url_for("portal.correct_action", action_id=ZERO)))
        self.remove_url = str(escape(url_for("portal.remove_action", action_id=ZERO)))

    def __call__(
        self, a: Mapping[str, Any], id: str, name: Any, moment: str, state: FormState | None
    ) -> Markup:
        """Action ``a``'s ``<details>``: open, with ``state``'s values and errors, when
        ``state`` is given (the form re-rendered after a refused correction). A field ``a``
        lacks reads as the template's undefined did: empty."""
        label, s = self.label, state
        v = s.values if s is not None else {}
        eid = escape(id)
        note = v.get("note", a.get("note") or "")
        tactic = v.get("tactic", a.get("tactic", ""))
        audience = v.get("audience", a.get("audience", ""))
        return Markup(
            f'<details class="correct"{" open" if s is not None else ""}>\n'
            f'          <summary>{label["correct"]}<span class="visually-hidden"> '
            f"{escape(name)}, {escape(moment)}</span></summary>\n"
            "          \n"
            "          \n"
            f'          <form method="post" action="{self.correct_url.replace(ZERO, eid)}"'
            ' class="correct-form" novalidate>\n'
            f"            {self.csrf}\n"
            '            <div class="field">\n'
            f'              <label for="tactic-{eid}">{label["tactic"]}</label>\n'
            f'              <select id="tactic-{eid}" name="tactic"{_invalid(s, "tactic")}>\n'
            f"                {escape(self.tactic_options(tactic))}\n"
            "              </select>\n"
            f"              {_errors(s, 'tactic')}\n"
            "            </div>\n"
            '            <div class="field">\n'
            f'              <label for="minutes-{eid}">{label["minutes"]}</label>\n'
            f'              <input id="minutes-{eid}" name="minutes" type="number" min="1"'
            ' max="480" inputmode="numeric"'
            f' value="{escape(v.get("minutes", a.get("minutes", "")))}"{_invalid(s, "minutes")}>\n'
            f"              {_errors(s, 'minutes')}\n"
            "            </div>\n"
            '            <div class="field">\n'
            f'              <label for="audience-{eid}">{label["audience"]}</label>\n'
            f'              <select id="audience-{eid}" name="audience"'
            f"{_invalid(s, 'audience')}>\n"
            f"                {escape(self.audience_options(audience))}\n"
            "              </select>\n"
            "            </div>\n"
            '            <div class="field">\n'
            f'              <label for="note-{eid}">{label["note"]} <span class="small">'
            f"{label['optional']}</span></label>\n"
            f'              <input id="note-{eid}" name="note" maxlength="2000"'
            f' value="{escape(note)}"{_invalid(s, "note")}>\n'
            f"              {_errors(s, 'note')}\n"
            "            </div>\n"
            f'            <button type="submit">{label["save"]}</button>\n'
            "          </form>\n"
            f'          <form method="post" action="{self.remove_url.replace(ZERO, eid)}">\n'
            f"            {self.csrf}\n"
            f'            <button type="submit" class="secondary">{label["remove"]}</button>\n'
            "          </form>\n"
            "        </details>"
        )


def _invalid(state: FormState | None, name: str) -> str:
    """The ``invalid`` macro of ``portal/_macros.html``."""
    if state is None or not state.errors.get(name):
        return ""
    return f' aria-invalid="true" aria-describedby="{escape(name)}-error"'


def _errors(state: FormState | None, name: str) -> str:
    """The ``errors`` macro of ``portal/_macros.html``."""
    if state is None:
        return ""
    return "".join(
        f'<p class="error" id="{escape(name)}-error">{escape(e)}</p>'
        for e in state.errors.get(name, [])
    )


@bp.app_template_global("correction_forms")
def correction_forms(
    token: str,
    label: Mapping[str, Any],
    tactic_options: Callable[[Any], Any],
    audience_options: Callable[[Any], Any],
) -> CorrectionForms:
    """The page's :class:`CorrectionForms` (``/history``)."""
    return CorrectionForms(token, label, tactic_options, audience_options)


@bp.app_template_global("likert_choices")
def likert_choices(key: str, scale: Sequence[tuple[Any, Any]], checked: Any) -> Markup:
    """One statement's radio buttons (``/pulse``): the answer ``checked`` (a submitted
    value, text) checked."""
    name = escape(key)
    return Markup(
        "".join(
            f'\n      <label><input type="radio" name="{name}" value="{escape(value)}"'
            f"{' checked' if checked == str(value) else ''}>"
            f'<span class="n">{escape(value)}</span><span class="l">{escape(label)}</span>'
            "</label>\n      "
            for value, label in scale
        )
    )


@bp.app_template_filter("anchor")
def anchor(text: str) -> str:
    """``text`` quoted as ``url_for``'s ``_anchor`` is: ``{{ url }}#{{ id|anchor }}``
    writes what ``url_for(endpoint, _anchor=id)`` does, with one ``url_for`` for a list of
    links (``/capital``'s explanations)."""
    return quote(text, safe=ANCHOR_SAFE)
