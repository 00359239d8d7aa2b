"""Every error answered as ``application/problem+json`` (RFC 9457), mapped in one place.

Every problem has a stable ``type`` (``https://compound.invalid/problems/<kind>``: clients
match on it and on the field names in ``errors``, docs/api.md "Errors"); its ``title``,
``detail`` and field messages read as sentences (:func:`as_sentence`).
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from shared.domain.errors import DomainError
from shared.eventlog import (
    ConcurrencyError,
    EventStoreError,
    EventValidationError,
    IdempotencyConflict,
    PayloadTooLarge,
    SubjectErased,
    UnknownEventType,
)

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
    if text[-1] not in _CLOSING:
        text += "."
    return text


def seconds(count: int) -> str:
    """``count`` seconds in words: "1 second", "30 seconds"."""
    return f"{count} second" if count == 1 else f"{count} seconds"


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
        title: the status's short phrase ("Not Found").
        detail: what happened, for a person (made a sentence).
        errors: each field's messages (each made a sentence).
        kind: the stable code of the problem (default: the status's, :func:`kind_of_status`).
        headers: headers to add (``Retry-After`` ...).
        extra: more members of the problem (``checks`` ...).
    """
    body: dict[str, Any] = {
        "type": TYPES + (kind or kind_of_status(status)),
        "title": title,
        "status": status,
        "detail": as_sentence(detail),
        **extra,
    }
    if errors:
        body["errors"] = {
            name: [as_sentence(str(m)) for m in messages] for name, messages in errors.items()
        }
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages -> ``{"field.sub": ["message", ...]}``."""
    if isinstance(messages, Mapping):
        out: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema" and prefix:
                name = prefix
            out.update(flatten(value, name))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_request": list(messages)}
    return {prefix or "_request": [str(messages)]}


def _store_error(err: EventStoreError) -> Response:
    if isinstance(err, EventValidationError):
        return problem(422, "Unprocessable Content", str(err), flatten(err.errors), "validation")
    if isinstance(err, UnknownEventType):
        return problem(422, "Unprocessable Content", str(err), {"type": [str(err)]}, "validation")
    if isinstance(err, PayloadTooLarge):
        return problem(413, "Content Too Large", str(err), kind="too-large")
    if isinstance(err, ConcurrencyError):
        return problem(409, "Conflict", str(err), kind="concurrency")
    if isinstance(err, IdempotencyConflict):
        return problem(422, "Unprocessable Content", str(err), kind="idempotency")
    if isinstance(err, SubjectErased):
        return problem(409, "Conflict", "This person's data was erased.", kind="erased")
    return problem(500, "Internal Server Error", "The event store failed. The error was logged.")


def fields_detail(fields: Mapping[str, list[str]], limit: int = 500) -> str:
    """The ``detail`` of a validation problem: how many fields are wrong, then each field's
    messages (``minutes: Must be ...``), as many as fit in ``limit`` characters.

    Example:
        fields_detail({"minutes": ["Not a valid integer."]})
        == "1 field is not valid. minutes: Not a valid integer."
    """
    count = len(fields)
    head = f"{count} field is not valid." if count == 1 else f"{count} fields are not valid."
    parts = [head]
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
        parts.append(f"{count - shown} more in errors.")
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
    if err.code == 429:
        wait = headers.get("Retry-After", "60")
        detail = f"Too many requests: try again in {seconds(int(wait) if wait.isdigit() else 60)}."
    else:
        detail = data.get("message") or err.description or ""
    return problem(err.code or 500, err.name, detail, headers=headers)


def init_app(app: Flask) -> None:
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
                "Service Unavailable",
                "The request took longer than the database allows. Try again in a few seconds.",
                kind="statement-timeout",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        if is_database_outage(err):
            return problem(
                503,
                "Service Unavailable",
                "The database cannot be reached. Try again in a moment.",
                headers={"Retry-After": "2"},
            )
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return problem(500, "Internal Server Error", "An unexpected error occurred. It was logged.")
