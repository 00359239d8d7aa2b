"""What Slack sends: slash commands, interactivity (modal submissions, shortcuts) and events.

Every request is checked before its body is read (:func:`shared.chat.signing.check_request`):
a bad, stale or replayed signature answers 401 and nothing is written. Each answer comes
within Slack's three seconds: the handler reads a row or two, checks the modal's fields and
sends the work to the Slack worker (:mod:`shared.chat.jobs`), which does it after the ack.
A reply is written in the language of the person the Slack user is linked to, else in their
workspace's organisation's default (:func:`shared.chat.locale.chat_locale`).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

import orjson
from flask import Blueprint, Flask, Response, abort, jsonify, url_for
from redis import RedisError

from services.gateway.auth import csrf, unlimited
from services.gateway.context import current_request
from services.gateway.problems import problem
from services.gateway.resources import resources
from services.gateway.slack.services import enqueue, installations, link_token, slack_settings
from shared.chat.locale import chat_locale
from shared.chat.messages import read_feedback_click
from shared.chat.modal import CALLBACK_ID, LoggedAction, read_submission
from shared.chat.signing import check_request
from shared.i18n import N_, gettext, use_locale
from shared.messaging import namespace

bp = Blueprint("slack_incoming", __name__, url_prefix="/slack")
log = logging.getLogger("compound.slack")
SHORTCUT_ID = "log_micro_action"
"""The message shortcut "Log as micro-action" (docs/chat.md, the manifest)."""
UNINSTALLING = {"app_uninstalled": "uninstalled", "tokens_revoked": "revoked"}
"""The events after which the workspace's bot token no longer works."""
NOT_INSTALLED = N_("Compound is not installed in this workspace: ask your Compound admin.")


@bp.before_request
def _from_slack() -> Response | None:
    """Refuse what Slack did not sign, or signed more than five minutes ago, or sent before."""
    settings = slack_settings()
    if not settings.signing_secret:
        abort(404)
    req = current_request()
    try:
        verdict = check_request(
            settings.signing_secret,
            req.get_data(cache=True),
            req.headers.get("X-Slack-Request-Timestamp"),
            req.headers.get("X-Slack-Signature"),
            resources().redis,
            namespace(resources().broker),
        )
    except RedisError:
        return problem(503, "Service Unavailable", "try again", headers={"Retry-After": "1"})
    if not verdict.ok:
        log.warning("slack request refused: %s", verdict.reason)
        return problem(401, "Unauthorized", f"not a request from Slack ({verdict.reason})")
    return None


def _form() -> dict[str, str]:
    """The form fields of the (already verified) body, parsed from the bytes that were signed."""
    fields = parse_qs(current_request().get_data(cache=True).decode(), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


def _ephemeral(text: str) -> Response:
    """A reply only the person who typed the command sees."""
    return jsonify({"response_type": "ephemeral", "text": text})


def _language(team_id: str, user_id: str) -> str:
    """The language to answer a Slack user in (see the module's docstring)."""
    installation = installations().get(team_id)
    if installation is None:
        return chat_locale(resources().engine, None)
    link = installations().link_of(team_id, user_id)
    person = link.person_id if link is not None else None
    return chat_locale(resources().engine, installation.tenant_id, person)


def _link_prompt(team_id: str, user_id: str) -> str:
    url = url_for("slack_accounts.link", token=link_token(team_id, user_id), _external=True)
    words = gettext("link your account")
    link = f"<{url}|{words}>"
    return gettext(
        "Link your Slack account to Compound first: %(link)s (valid for an hour).", link=link
    )


@bp.post("/commands")
def command() -> Response:
    """``/compound`` opens the modal (``/compound some text`` starts its note with the text);
    ``/compound unlink`` unties the Slack account from its person."""
    form = _form()
    team_id, user_id = form.get("team_id", ""), form.get("user_id", "")
    with use_locale(_language(team_id, user_id)):
        return _command(form, team_id, user_id)


def _command(form: dict[str, str], team_id: str, user_id: str) -> Response:
    if installations().get(team_id) is None:
        return _ephemeral(gettext(NOT_INSTALLED))
    if installations().link_of(team_id, user_id) is None:
        return _ephemeral(_link_prompt(team_id, user_id))
    text = form.get("text", "").strip()
    if text == "unlink":
        enqueue("unlink", {"team_id": team_id, "user_id": user_id})
        return _ephemeral(gettext("Unlinking your Slack account from Compound."))
    task = {"team_id": team_id, "user_id": user_id, "trigger_id": form.get("trigger_id", "")}
    enqueue("open_modal", {**task, "note": text or None})
    return Response(status=200)


@bp.post("/interactivity")
def interactivity() -> Response:
    """The modal's submission (checked here: wrong fields answer ``response_action: errors``),
    a click on a feedback button (answered by the worker as the named colleague) and the
    message shortcut "Log as micro-action" (opens the modal, the message as note)."""
    try:
        payload = orjson.loads(_form().get("payload", ""))
    except orjson.JSONDecodeError:
        return problem(400, "Bad Request", "payload is not JSON")
    if not isinstance(payload, dict):
        return problem(400, "Bad Request", "payload is not a JSON object")
    team_id = str(_object(payload, "team").get("id", ""))
    user_id = str(_object(payload, "user").get("id", ""))
    kind = payload.get("type")
    view = _object(payload, "view")
    if kind == "view_submission" and view.get("callback_id") == CALLBACK_ID:
        with use_locale(_language(team_id, user_id)):
            return _submitted(team_id, user_id, view)
    if kind == "block_actions":
        actions = payload.get("actions")
        for action in actions if isinstance(actions, list) else []:
            click = read_feedback_click(action) if isinstance(action, dict) else None
            if click is None or installations().link_of(team_id, user_id) is None:
                continue
            answer = {"owner": str(click.owner), "request_id": str(click.request_id)}
            task = {"team_id": team_id, "user_id": user_id, "useful": click.useful}
            enqueue("feedback_answer", {**task, **answer})
        return Response(status=200)
    if kind == "message_action" and payload.get("callback_id") == SHORTCUT_ID:
        with use_locale(_language(team_id, user_id)):
            if installations().get(team_id) is None:
                return _ephemeral(gettext(NOT_INSTALLED))
            if installations().link_of(team_id, user_id) is None:
                return _ephemeral(_link_prompt(team_id, user_id))
        note = str(_object(payload, "message").get("text") or "") or None
        trigger_id = str(payload.get("trigger_id", ""))
        task = {"team_id": team_id, "user_id": user_id, "trigger_id": trigger_id}
        enqueue("open_modal", {**task, "note": note})
    return Response(status=200)


def _object(payload: dict[str, Any], key: str) -> dict[str, Any]:
    """``payload[key]`` when it is a JSON object, else an empty one (Slack's shapes are
    trusted only as far as they are checked)."""
    value = payload.get(key)
    return value if isinstance(value, dict) else {}


def _submitted(team_id: str, user_id: str, view: dict[str, Any]) -> Response:
    checked = read_submission(_object(_object(view, "state"), "values"))
    if not isinstance(checked, LoggedAction):
        return jsonify({"response_action": "errors", "errors": checked})
    if installations().link_of(team_id, user_id) is None:
        return jsonify(
            {"response_action": "errors", "errors": {"tactic": gettext("Link your account first.")}}
        )
    enqueue(
        "log_action",
        {
            "team_id": team_id,
            "user_id": user_id,
            "view_id": str(view.get("id", "")),
            "tactic": checked.tactic,
            "minutes": checked.minutes,
            "audience": checked.audience,
            "note": checked.note,
        },
    )
    return Response(status=200)  # an empty 200 closes the modal


@bp.post("/events")
def events() -> Response:
    """The Events API: answers the URL check; ``app_home_opened`` publishes the person's Home
    tab, ``app_uninstalled`` and ``tokens_revoked`` forget the workspace (in the worker);
    other events are acknowledged (docs/chat.md)."""
    try:
        payload = orjson.loads(current_request().get_data(cache=True))
    except orjson.JSONDecodeError:
        return problem(400, "Bad Request", "the body is not JSON")
    if not isinstance(payload, dict):
        return problem(400, "Bad Request", "the body is not a JSON object")
    if payload.get("type") == "url_verification":
        return jsonify({"challenge": str(payload.get("challenge", ""))})
    event = _object(payload, "event")
    team_id = str(payload.get("team_id", ""))
    if payload.get("type") == "event_callback" and event.get("type") == "app_home_opened":
        if event.get("tab") == "home" and installations().get(team_id) is not None:
            enqueue("app_home", {"team_id": team_id, "user_id": str(event.get("user", ""))})
        return Response(status=200)
    reason = UNINSTALLING.get(str(event.get("type")))
    if payload.get("type") == "event_callback" and reason:
        revoked_bots = _object(event, "tokens").get("bot")
        if reason == "uninstalled" or revoked_bots:
            enqueue("uninstall", {"team_id": team_id, "reason": reason})
    return Response(status=200)


def init_app(app: Flask) -> None:
    csrf.exempt(bp)  # Slack's signature is the check (above)
    unlimited(bp)  # Slack's own rate is the limit; a replay is refused anyway
    app.register_blueprint(bp)
