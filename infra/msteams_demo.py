"""The connector stand-in's demo page (``/demo``): try Compound's Teams bot without Teams.

Open Teams as an address, write to the bot, fill in the cards it sends and press their
buttons. Each step reaches Compound as the Bot Framework's would: an activity posted to the
bot's messaging endpoint with a token the stand-in signed (infra/msteams_stand_in.py).
``make run`` wires it to the gateway.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from flask import Flask, redirect, render_template_string, request, url_for
from werkzeug.wrappers import Response

from infra.msteams_stand_in import DEMO_TENANT, ConnectorState, deliver

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Teams stand-in · demo</title>
<style>body{font-family:sans-serif;max-width:46rem;margin:2rem auto;line-height:1.4}
section{border:1px solid #ccc;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
.bolder{font-weight:bold}.small{font-size:.85em;color:#555}.attention{color:#a00}
fieldset{border:0;padding:0;margin:.5rem 0}</style></head><body>
<h1>Teams stand-in: chat with Compound</h1>
{% if not email %}
<form method="get"><label>Your Compound e-mail address <input name="email" required></label>
<button>Open Teams as this person</button></form>
{% else %}
<p>Signed in as {{ email }} (Azure AD object {{ aad }}).
<a href="{{ url_for('demo') }}">Switch</a> ·
<a href="{{ url_for('demo', email=email) }}">Refresh</a></p>
<section aria-label="compose"><form method="post" action="{{ url_for('demo_say') }}">
<input type="hidden" name="email" value="{{ email }}">
<label>Message to Compound <input name="text" placeholder="log, or unlink"></label>
<button>Send</button></form>
{% if status %}<p class="small">The bot answered HTTP {{ status }}.</p>{% endif %}</section>
{% for m in received %}<section class="message" aria-label="message from Compound">
<p>{{ m.text }}</p>
{% for card in m.cards %}<form method="post" action="{{ url_for('demo_submit') }}" class="card">
<input type="hidden" name="email" value="{{ email }}">
<input type="hidden" name="message" value="{{ m.id }}">
{% for b in card.body %}{% if b.type == 'TextBlock' %}
<p class="{{ (b.color or '')|lower }} {{ (b.weight or '')|lower }}
{{ (b.size or '')|lower }}">{{ b.text }}</p>
{% elif b.type == 'Container' %}{% for i in b['items'] %}<p>{{ i.text }}</p>{% endfor %}
{% elif b.type == 'Input.ChoiceSet' %}<fieldset><legend>{{ b.label }}</legend>
{% for c in b.choices %}<label><input type="radio" name="{{ b.id }}" value="{{ c.value }}"
{% if b.value == c.value %}checked{% endif %}> {{ c.title }}</label><br>{% endfor %}</fieldset>
{% elif b.type == 'Input.Number' %}
<label>{{ b.label }} <input name="{{ b.id }}" value="{{ b.value }}"></label>
{% elif b.type == 'Input.Text' %}<label>{{ b.label }}<br>
<textarea name="{{ b.id }}">{{ b.value or '' }}</textarea></label>
{% endif %}{% endfor %}
{% for a in card.actions %}{% if a.type == 'Action.Submit' %}
<button name="action" value="{{ loop.index0 }}">{{ a.title }}</button>
{% elif a.type == 'Action.OpenUrl' %}<a href="{{ a.url }}">{{ a.title }}</a>{% endif %}{% endfor %}
</form>{% endfor %}</section>{% endfor %}
{% endif %}</body></html>"""


def _aad_of(email: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"msteams-demo:{email.strip().casefold()}"))


def add_demo(app: Flask, state: ConnectorState) -> None:
    """Add the demo page to the stand-in's ``app`` (the bot at ``state.bot_url``)."""

    def user(email: str) -> str:
        aad = _aad_of(email)
        with state.lock:
            state.users.setdefault(
                aad,
                {"aadObjectId": aad, "id": f"29:{aad}", "name": email, "email": email,
                 "tenantId": DEMO_TENANT},
            )  # fmt: skip
        return aad

    def send(email: str, body: dict[str, Any]) -> int:
        aad = user(email)
        with state.lock:
            activity = state.activity(request.host_url, aad, body)
        return deliver(state, activity).status_code

    @app.get("/demo")
    def demo() -> str:
        email = request.args.get("email", "").strip()
        aad = user(email) if email else ""
        with state.lock:
            mine = [s for s in state.sent if s["aad_object_id"] == aad]
        received = [
            {
                "id": s["id"],
                "text": s["activity"].get("text", ""),
                "cards": [a["content"] for a in s["activity"].get("attachments") or []],
            }
            for s in reversed(mine)
        ]
        return render_template_string(
            PAGE, email=email, aad=aad, received=received, status=request.args.get("status")
        )

    @app.post("/demo/say")
    def demo_say() -> Response:
        email = request.form["email"]
        status = send(email, {"text": request.form.get("text", "")})
        return redirect(url_for("demo", email=email, status=status))

    @app.post("/demo/submit")
    def demo_submit() -> Response:
        """A card's button: its inputs and the button's ``data``, as Teams submits them."""
        email = request.form["email"]
        with state.lock:
            found = [s for s in state.sent if s["id"] == request.form.get("message")]
        card = found[0]["activity"]["attachments"][0]["content"] if found else {}
        actions = card.get("actions") or []
        index = int(request.form.get("action", "0") or 0)
        data = actions[index].get("data", {}) if index < len(actions) else {}
        inputs = {
            b["id"]: request.form.get(b["id"], "")
            for b in card.get("body") or []
            if str(b.get("type", "")).startswith("Input.")
        }
        status = send(email, {"text": "", "value": orjson.loads(orjson.dumps({**inputs, **data}))})
        return redirect(url_for("demo", email=email, status=status))
