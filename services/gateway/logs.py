"""Structured JSON logs (structlog), with the request id on every line.

The request id comes from ``X-Request-ID`` (when it is a sane token) or is generated; it is
returned in the response's ``X-Request-ID`` header and used as the events' correlation id.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
import time
from typing import Any

import structlog
from flask import Flask, Response, request

from services.gateway.context import current_request, request_globals
from services.gateway.security import loggable_path

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def configure(level: str = "INFO") -> None:
    """JSON lines on stderr for structlog and the standard library alike."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
            # ExtraAdder: a standard library record's ``extra`` fields become JSON fields
            # (a projection's quarantine warning carries its tenant, position and error).
            foreign_pre_chain=[
                *shared,
                structlog.stdlib.add_logger_name,
                structlog.stdlib.ExtraAdder(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


log = structlog.get_logger("compound.gateway")
_access = logging.getLogger("compound.gateway")  # the standard logger structlog writes to


def init_app(app: Flask) -> None:
    configure(app.config["COMPOUND_SETTINGS"].log_level)

    @app.before_request
    def _bind_request() -> None:
        incoming = current_request().headers.get("X-Request-ID", "")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else secrets.token_hex(16)
        context = request_globals()
        context.request_id = request_id
        context.started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)

    @app.after_request
    def _log_request(response: Response) -> Response:
        context = request_globals()
        request_id = context.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        if not _access.isEnabledFor(logging.INFO):
            return response  # the line would be dropped: skip building it
        caller = context.get("caller")
        log.info(
            "request",
            method=request.method,
            path=loggable_path(),
            status=response.status_code,
            ms=round((time.perf_counter() - context.get("started", time.perf_counter())) * 1000, 2),
            tenant=str(caller.tenant_id) if caller else None,
        )
        return response
