"""Every error answered as ``application/problem+json`` (RFC 9457), mapped in one place.

Every problem has a stable ``type`` (``https://compound.invalid/problems/<kind>``: clients
match on it and on the field names in ``errors``, docs/api.md "Errors"); its ``title``,
``detail`` and field messages read as sentences (:func:`as_sentence`), in the reader's
language: a title by its status (:data:`TITLES`), the domain's messages as they were made
(:class:`shared.domain.errors.Text`), marshmallow's through
:mod:`services.gateway.field_messages`.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from services.gateway.field_messages import localised_fields
from shared.domain.errors import N_, DomainError, Text, plural_text, use_translator
from shared.eventlog import (
    ConcurrencyError,
    EventStoreError,
    EventValidationError,
    IdempotencyConflict,
    PayloadTooLarge,
    SubjectErased,
    UnknownEventType,
)
from shared.i18n import current_locale, translations

PROBLEM_JSON = "application/problem+json"
TYPES = "https://compound.invalid/problems/"
"""The ``type`` of every problem is this plus its kind (``validation``, ``not-found`` ...)."""

KIND_OF_STATUS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    410: "gone",
    413: "too-large",
    422: "validation",
    429: "too-many-requests",
    500: "internal",
    503: "unavailable",
}
"""The kind of a problem that names none: one per status (docs/api.md lists them)."""

TITLES = {
    400: N_("Bad Request"),
    401: N_("Unauthorized"),
    403: N_("Forbidden"),
    404: N_("Not Found"),
    405: N_("Method Not Allowed"),
    409: N_("Conflict"),
    410: N_("Gone"),
    413: N_("Content Too Large"),
    422: N_("Unprocessable Content"),
    429: N_("Too Many Requests"),
    500: N_("Internal Server Error"),
    503: N_("Service Unavailable"),
}
"""The title of each status a problem has (RFC 9110's phrases), translated where shown."""

DESCRIPTIONS = {
    400: N_("The request could not be read."),
    401: N_("Log in, or send a bearer token."),
    403: N_("You are not allowed to do this."),
    404: N_("There is nothing at this address."),
    405: N_("This address does not take this method: the Allow header lists those it takes."),
    413: N_("The request is too large."),
    500: N_("An unexpected error occurred. It was logged."),
}
"""The detail of an HTTP error raised with werkzeug's own English description."""

_CLOSING = ".!?…"


def kind_of_status(status: int) -> str:
    """The default kind of a ``status`` (a status not in :data:`KIND_OF_STATUS`: its phrase,
    ``http-428``-style when it has none)."""
    if status in KIND_OF_STATUS:
        return KIND_OF_STATUS[status]
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")
    except ValueError:
        return f"http-{status}"


def _catalogue(msgid: str, plural: str | None, num: int | None) -> str:
    found = translations(current_locale())
    if plural is None:
        return found.ugettext(msgid)
    return found.ungettext(msgid, plural, 1 if num is None else num)


def as_sentence(text: str) -> str:
    """``text`` as a sentence: its first letter a capital, a full stop at its end (a text that
    starts with a code, a number or a quote keeps its start; an empty text stays empty).

    Example:
        as_sentence("no such team") == "No such team."
    """
    text = text.strip()
    if not text:
        return text
    if text[0].islower():
        text = text[0].upper() + text[1:]
    # The pseudo-locale's "⟦Ŝéñţéñçé.⟧" ends as its sentence does.
    if text.rstrip("⟧")[-1:] not in _CLOSING:
        text += "."
    return text


def try_again_in(seconds: int) -> str:
    """The detail of a 429: how long to wait, in the reader's language."""
    return plural_text(
        "Too many requests: try again in %(num)d second.",
        "Too many requests: try again in %(num)d seconds.",
        seconds,
    )


def problem(
    status: int,
    title: str,
    detail: str = "",
    errors: Mapping[str, Any] | None = None,
    kind: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    """The problem+json response.

    Parameters:
        status: the HTTP status.
        title: the status's short phrase ("Not Found"; a status of :data:`TITLES` gets its
            title from there, in the reader's language).
        detail: what happened, for a person (made a sentence).
        errors: each field's messages (each made a sentence; marshmallow's translated).
        kind: the stable code of the problem (default: the status's, :func:`kind_of_status`).
        headers: headers to add (``Retry-After`` ...).
        extra: more members of the problem (``checks`` ...).
    """
    body: dict[str, Any] = {
        "type": TYPES + (kind or kind_of_status(status)),
        "title": Text(TITLES[status]) if status in TITLES else title,
        "status": status,
        "detail": as_sentence(detail),
        **extra,
    }
    if errors:
        fields = localised_fields({name: list(messages) for name, messages in errors.items()})
        body["errors"] = {
            name: [as_sentence(m) for m in messages] for name, messages in fields.items()
        }
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages -> ``{"field.sub": ["message", ...]}``, marshmallow's
    own messages in the reader's language."""
    if isinstance(messages, Mapping):
        out: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema" and prefix:
                name = prefix
            out.update(flatten(value, name))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return localised_fields({prefix or "_request": list(messages)})
    return localised_fields({prefix or "_request": [str(messages)]})


def _store_error(err: EventStoreError) -> Response:
    if isinstance(err, EventValidationError):
        fields = flatten(err.errors)
        return problem(422, "", fields_detail(fields), fields, "validation")
    if isinstance(err, UnknownEventType):
        unknown = Text("There is no event type %(type)s.", type=repr(err.event_type))
        return problem(422, "", unknown, {"type": [unknown]}, "validation")
    if isinstance(err, PayloadTooLarge):
        return problem(
            413,
            "",
            Text(
                "An event of %(size)d bytes is over the limit of %(limit)d bytes.",
                size=err.size,
                limit=err.limit,
            ),
            kind="too-large",
        )
    if isinstance(err, ConcurrencyError):
        return problem(
            409, "", Text("Someone wrote meanwhile: read again and retry."), kind="concurrency"
        )
    if isinstance(err, IdempotencyConflict):
        detail = Text("This idempotency key was used before for other events.")
        return problem(422, "", detail, kind="idempotency")
    if isinstance(err, SubjectErased):
        return problem(409, "", Text("This person's data was erased."), kind="erased")
    return problem(500, "", Text("The event store failed. The error was logged."))


def fields_detail(fields: Mapping[str, list[str]], limit: int = 500) -> str:
    """The ``detail`` of a validation problem: how many fields are wrong, then each field's
    messages (``minutes: Must be ...``), as many as fit in ``limit`` characters.

    Example:
        fields_detail({"minutes": ["Not a valid integer."]})
        == "1 field is not valid. minutes: Not a valid integer."
    """
    count = len(fields)
    head = plural_text("%(num)d field is not valid.", "%(num)d fields are not valid.", count)
    parts = [str(head)]
    size = len(head)
    shown = 0
    for name, messages in sorted(fields.items()):
        part = f"{name}: {' '.join(as_sentence(m) for m in messages)}"
        if size + 1 + len(part) > limit:
            break
        parts.append(part)
        size += 1 + len(part)
        shown += 1
    if shown < count:
        parts.append(
            plural_text(
                "%(num)d more field in errors.", "%(num)d more fields in errors.", count - shown
            )
        )
    return " ".join(parts)


def http_problem(err: HTTPException) -> Response:
    """Werkzeug and webargs errors; webargs puts per-location messages in ``err.data``."""
    data = getattr(err, "data", None) or {}
    messages = data.get("errors") or data.get("messages")
    # Keep what the exception says in headers (405: Allow, 401: WWW-Authenticate ...).
    headers = {k: v for k, v in err.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    if err.code == 429 and err.description:
        headers.setdefault("Retry-After", "60")
    if messages:
        # {"json": {"field": [...]}} -> {"field": [...]}: the location adds nothing for users
        if isinstance(messages, Mapping) and len(messages) == 1:
            messages = next(iter(messages.values()))
        fields = flatten(messages)
        return problem(
            err.code or 422, err.name, fields_detail(fields), fields, "validation", headers
        )
    status = err.code or 500
    if status == 429:
        wait = headers.get("Retry-After", "60")
        detail: str = try_again_in(int(wait) if wait.isdigit() else 60)
    elif data.get("message"):
        detail = data["message"]
    elif status in DESCRIPTIONS and err.description == type(err).description:
        detail = Text(DESCRIPTIONS[status])
    else:
        detail = err.description or ""
    return problem(status, err.name, detail, headers=headers)


def init_app(app: Flask) -> None:
    # The domain's messages are made in the reader's language from now on.
    use_translator(_catalogue)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Response:
        return http_problem(err)

    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError) -> Response:
        return problem(err.status, err.title, err.detail, err.errors or None, err.kind)

    @app.errorhandler(EventStoreError)
    def _event_store_error(err: EventStoreError) -> Response:
        return _store_error(err)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Response:
        from services.gateway.resources import is_database_outage
        from services.gateway.timeouts import RETRY_AFTER_SECONDS, busy_page, is_statement_timeout

        if is_statement_timeout(err):
            # The endpoint, not the path: a link's path holds its signed token.
            app.logger.warning("statement timeout on %s %s", request.method, request.endpoint)
            if not request.path.startswith("/api/"):
                return busy_page()
            return problem(
                503,
                "",
                Text(
                    "The request took longer than the database allows. Try again in a few seconds."
                ),
                kind="statement-timeout",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        if is_database_outage(err):
            return problem(
                503,
                "",
                Text("The database cannot be reached. Try again in a moment."),
                headers={"Retry-After": "2"},
            )
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return problem(500, "", Text("An unexpected error occurred. It was logged."))
