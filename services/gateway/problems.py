"""Every error answered as ``application/problem+json`` (RFC 9457)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str = "", **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Response:
        return problem(err.code or 500, err.name, err.description or "")

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Response:
        app.logger.exception("unhandled error")
        return problem(500, "Internal Server Error", "an unexpected error occurred; it was logged")
