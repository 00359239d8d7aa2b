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
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from flask import current_app, url_for
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


class HistoryItems:
    """``/history``'s list items, one an action: its tactic, minutes, audience, moment,
    proof state, note and :class:`CorrectionForms` (the page's ``tactic_name``,
    ``minutes_text``, ``audience_text`` and ``proof_badge``: its macros, each rendered once
    per value)."""

    def __init__(
        self,
        forms: CorrectionForms,
        texts: Sequence[Callable[[Any], Any]],
        editing: str | None,
        state: FormState,
    ) -> None:
        self.forms = forms
        self.tactic_name, self.minutes_text, self.audience_text, self.proof_badge = texts
        self.editing, self.state = editing, state
        self.moment = current_app.jinja_env.filters["moment"]  # the templates' own

    def __call__(self, actions: Iterable[Mapping[str, Any]]) -> Markup:
        return Markup("".join(self._item(a) for a in actions))

    def _item(self, a: Mapping[str, Any]) -> str:
        id = str(a.get("id", ""))
        name = self.tactic_name(a.get("tactic", ""))
        at = a["occurred_at"]
        moment = self.moment(at)
        note = a.get("note")
        state = self.state if self.editing == id else None
        return (
            f'\n    \n    <li id="action-{escape(id)}">\n      <div>\n'
            f"        <strong>{escape(name)}</strong>\n"
            f'        <span class="small">{escape(self.minutes_text(a.get("minutes", "")))} · '
            f"{escape(self.audience_text(a.get('audience', '')))} · "
            f'<time datetime="{escape(at.isoformat())}">{escape(moment)}</time></span>\n'
            f"        {escape(self.proof_badge(a.get('proof', '')))}\n"
            f"        {_note(note)}\n"
            f"        {self.forms(a, id, name, moment, state)}\n"
            "      </div>\n    </li>\n    "
        )


@bp.app_template_global("history_items")
def history_items(
    forms: CorrectionForms,
    texts: Sequence[Callable[[Any], Any]],
    editing: str | None,
    state: FormState,
) -> HistoryItems:
    """The page's :class:`HistoryItems`."""
    return HistoryItems(forms, texts, editing, state)


def _note(note: Any) -> str:
    return f'<p class="note">{escape(note)}</p>' if note else ""


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
    value, text) checked; written once per statement, scale (its labels already in the
    reader's language) and answer."""
    try:
        memo_key = (key, tuple(scale), checked)
        kept = _LIKERT.get(memo_key)
    except TypeError:  # an unhashable value: written every time
        memo_key, kept = None, None
    if kept is None:
        kept = _likert_choices(key, scale, checked)
        if memo_key is not None and len(_LIKERT) < _LIKERT_SIZE:
            _LIKERT[memo_key] = kept
    return kept


_LIKERT: dict[tuple[Any, ...], Markup] = {}
_LIKERT_SIZE = 4096  # statements x languages x answers; beyond it no memo


def _likert_choices(key: str, scale: Sequence[tuple[Any, Any]], checked: Any) -> Markup:
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
