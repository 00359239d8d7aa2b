"""The stand-in's demo page (``/demo``): try Compound's Slack app without Slack.

Sign in to the demo workspace with an address, type ``/compound``, fill in the modal, read
the direct messages Compound sent you and click their buttons. Each action is sent to
Compound as Slack sends it: a form or JSON body signed with the app's signing secret.
``make run`` wires it to the gateway; an admin must install the app from /slack first.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import orjson
import requests
from flask import Flask, Response, redirect, render_template_string, request, url_for
from markupsafe import Markup, escape

from shared.chat.signing import sign

DEMO_TEAM = "T0DEMO"
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Slack stand-in · demo</title>
<style>body{font-family:sans-serif;max-width:46rem;margin:2rem auto;line-height:1.4}
section{border:1px solid #ccc;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
.error{color:#a00}</style></head><body>
<h1>Slack stand-in: demo workspace</h1>
{% if not email %}
<form method="get"><label>Your Compound e-mail address <input name="email" required></label>
<button>Open Slack as this person</button></form>
{% else %}
<p>Signed in as {{ email }} (Slack user {{ user_id }}). <a href="{{ url_for('demo') }}">Switch</a>
· <a href="{{ url_for('demo', email=email) }}">Refresh</a></p>
<section aria-label="command"><form method="post" action="{{ url_for('demo_command') }}">
<input type="hidden" name="email" value="{{ email }}">
<label><code>/compound</code> <input name="text" placeholder="optional note, or unlink"></label>
<button>Send</button></form>
{% for reply in replies %}<p class="reply">{{ reply|slack }}</p>{% endfor %}</section>
{% if view %}<section aria-label="modal"><h2>{{ view.title.text }}</h2>
<form method="post" action="{{ url_for('demo_submit') }}">
<input type="hidden" name="email" value="{{ email }}">
{% for block in view.blocks %}<fieldset><legend>{{ block.label.text }}</legend>
{% set el = block.element %}
{% if errors.get(block.block_id) %}<p class="error">{{ errors[block.block_id] }}</p>{% endif %}
{% if el.type == 'radio_buttons' %}{% for o in el.options %}
<label><input type="radio" name="{{ block.block_id }}" value="{{ o.value }}"
{% if el.initial_option and el.initial_option.value == o.value %}checked{% endif %}>
{{ o.text.text }}</label><br>{% endfor %}
{% elif el.type == 'number_input' %}
<input name="{{ block.block_id }}" value="{{ el.initial_value }}">
{% else %}<textarea name="{{ block.block_id }}">{{ el.initial_value or '' }}</textarea>{% endif %}
</fieldset>{% endfor %}<button>{{ view.submit.text }}</button></form></section>{% endif %}
<section aria-label="home"><h2>Compound's Home tab</h2>
<form method="post" action="{{ url_for('demo_home') }}">
<input type="hidden" name="email" value="{{ email }}"><button>Open the Home tab</button></form>
{% if home %}{% for block in home.blocks %}{% if block.text %}
<p class="home">{{ block.text.text|slack }}</p>{% endif %}{% endfor %}
{% else %}<p>Not opened yet.</p>{% endif %}</section>
<section aria-label="direct messages"><h2>Direct messages from Compound</h2>
{% for message in messages %}<div class="message"><p>{{ message.text }}</p>
{% for line in message.lines %}<p class="line">{{ line|slack }}</p>{% endfor %}
{% for button in message.buttons %}<form method="post" action="{{ url_for('demo_click') }}"
style="display:inline"><input type="hidden" name="email" value="{{ email }}">
<input type="hidden" name="action_id" value="{{ button.action_id }}">
<input type="hidden" name="value" value="{{ button.value }}">
<button>{{ button.text.text }}</button></form>{% endfor %}</div>
{% else %}<p>None yet.</p>{% endfor %}</section>
{% endif %}</body></html>"""
LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")


def demo_user_id(email: str) -> str:
    """The demo workspace's Slack user id for an address (the same one every time)."""
    return "U" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:10].upper()


def _slack_text(text: str) -> Markup:
    """Slack's ``<url|label>`` links as HTML anchors, the rest escaped."""
    out, last = [], 0
    for match in LINK.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(Markup('<a href="{}">{}</a>').format(match.group(1), match.group(2)))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def add_demo(app: Flask, state: Any, app_url: str, signing_secret: str) -> None:
    """Add ``/demo`` to the stand-in.

    Parameters:
        app: the stand-in's app.
        state: its :class:`infra.slack_stand_in.StandInState`.
        app_url: Compound's gateway (``http://127.0.0.1:8000``).
        signing_secret: the app's signing secret (what Slack signs with).
    """
    app.jinja_env.filters["slack"] = _slack_text
    replies: dict[str, list[str]] = {}
    errors: dict[str, dict[str, str]] = {}

    def send(path: str, body: bytes, content_type: str) -> requests.Response:
        headers = {**sign(signing_secret, body, int(time.time())), "Content-Type": content_type}
        return requests.post(f"{app_url}{path}", data=body, headers=headers, timeout=10)

    def user(email: str) -> str:
        user_id = demo_user_id(email)
        with state.lock:
            state.users[(DEMO_TEAM, user_id)] = {"email": email, "confirmed": True}
        return user_id

    def form_post(path: str, fields: dict[str, str]) -> requests.Response:
        return send(path, urlencode(fields).encode(), "application/x-www-form-urlencoded")

    def interact(payload: dict[str, Any]) -> requests.Response:
        return form_post("/slack/interactivity", {"payload": orjson.dumps(payload).decode()})

    def back(email: str) -> Response:
        return redirect(url_for("demo", email=email))  # type: ignore[return-value]

    @app.get("/demo")
    def demo() -> str:
        email = request.args.get("email", "").strip()
        if not email:
            return render_template_string(PAGE, email=None)
        user_id = user(email)
        with state.lock:
            view = state.open_views.get(user_id)
            home = state.home_views.get((DEMO_TEAM, user_id))
            sent = [s for s in state.sent if s["team_id"] == DEMO_TEAM]
        messages = []
        for s in sent:
            if s["method"] == "chat.postMessage" and s["args"].get("channel") == "D" + user_id[1:]:
                blocks = s["args"].get("blocks") or []
                buttons = [e for b in blocks if b.get("type") == "actions" for e in b["elements"]]
                lines = [b["text"]["text"] for b in blocks[1:] if b.get("type") == "section"]
                text = s["args"].get("text")
                messages.append({"text": text, "buttons": buttons, "lines": lines})
        return render_template_string(
            PAGE,
            email=email,
            user_id=user_id,
            replies=replies.get(user_id, [])[-3:],
            view=view,
            home=home,
            errors=errors.get(user_id, {}),
            messages=list(reversed(messages)),
        )

    @app.post("/demo/command")
    def demo_command() -> Response:
        email = request.form["email"]
        user_id = user(email)
        trigger_id = f"{secrets.token_hex(6)}.demo"
        with state.lock:
            state.triggers[trigger_id] = user_id
        command = {"team_id": DEMO_TEAM, "user_id": user_id, "command": "/compound"}
        text = request.form.get("text", "")
        answer = form_post("/slack/commands", {**command, "text": text, "trigger_id": trigger_id})
        reply = answer.json().get("text") if answer.content else "(the modal opens: refresh)"
        replies.setdefault(user_id, []).append(str(reply or f"HTTP {answer.status_code}"))
        return back(email)

    @app.post("/demo/submit")
    def demo_submit() -> Response:
        email = request.form["email"]
        user_id = user(email)
        with state.lock:
            view = state.open_views.get(user_id)
        if view is None:
            return back(email)
        values: dict[str, Any] = {}
        for block in view["blocks"]:
            raw = request.form.get(block["block_id"])
            kind = block["element"]["type"]
            state_value: dict[str, Any] = {"type": kind}
            if kind == "radio_buttons":
                state_value["selected_option"] = {"value": raw} if raw else None
            else:
                state_value["value"] = raw
            values[block["block_id"]] = {"value": state_value}
        who = {"team": {"id": DEMO_TEAM}, "user": {"id": user_id}}
        submitted = {**view, "state": {"values": values}}
        answer = interact({"type": "view_submission", **who, "view": submitted})
        body = answer.json() if answer.content else {}
        if body.get("response_action") == "errors":
            errors[user_id] = body["errors"]
        else:
            errors.pop(user_id, None)
            with state.lock:
                state.open_views.pop(user_id, None)
        return back(email)

    @app.post("/demo/home")
    def demo_home() -> Response:
        """Open the Home tab: Slack sends ``app_home_opened`` to the events URL."""
        email = request.form["email"]
        event = {"type": "app_home_opened", "user": user(email), "channel": "D0", "tab": "home"}
        body = {"type": "event_callback", "team_id": DEMO_TEAM, "event": event}
        send("/slack/events", orjson.dumps(body), "application/json")
        return back(email)

    @app.post("/demo/click")
    def demo_click() -> Response:
        email = request.form["email"]
        user_id = user(email)
        action = {"action_id": request.form["action_id"], "value": request.form["value"]}
        who = {"team": {"id": DEMO_TEAM}, "user": {"id": user_id}}
        interact({"type": "block_actions", **who, "actions": [{**action, "type": "button"}]})
        return back(email)
