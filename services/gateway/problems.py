"""Every error answered as ``application/problem+json`` (RFC 9457), mapped in one place."""

from __future__ import annotations

from collections.abc import Mapping
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
_TYPES = "https://compound.invalid/problems/"


def problem(
    status: int,
    title: str,
    detail: str = "",
    errors: Mapping[str, Any] | None = None,
    kind: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": _TYPES + kind if kind else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    if errors:
        body["errors"] = dict(errors)
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
        return problem(409, "Conflict", "this person's data was erased", kind="erased")
    return problem(500, "Internal Server Error", "the event store failed; it was logged")


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
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in sorted(fields.items()))[:500]
        return problem(
            err.code or 422, err.name, detail or "invalid request", fields, "validation", headers
        )
    detail = data.get("message") or err.description or ""
    return problem(err.code or 500, err.name, detail, headers=headers)


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Response:
        return http_problem(err)

    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError) -> Response:
        return problem(err.status, err.title, err.detail, err.errors or None)

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
                "the request took longer than the database allows; retry in a few seconds",
                kind="statement-timeout",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        if is_database_outage(err):
            return problem(
                503,
                "Service Unavailable",
                "the database is not reachable; retry",
                headers={"Retry-After": "2"},
            )
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return problem(500, "Internal Server Error", "an unexpected error occurred; it was logged")
