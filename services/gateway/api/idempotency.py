"""``Idempotency-Key`` on writes: the same key and body get the original response again;
the same key with another body is refused (422)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

import orjson
from flask import Response, request
from sqlalchemy import text

from services.gateway.auth import current_caller
from services.gateway.problems import problem
from services.gateway.resources import resources
from shared.domain.errors import Text

F = TypeVar("F", bound=Callable[..., Any])
MAX_KEY = 200


def _request_hash() -> str:
    raw = request.get_data(cache=True)
    try:
        body = orjson.dumps(orjson.loads(raw), option=orjson.OPT_SORT_KEYS) if raw else b""
    except orjson.JSONDecodeError:
        body = raw
    return hashlib.sha256(
        request.method.encode() + request.path.encode() + b"\0" + body
    ).hexdigest()


def idempotent(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        if not key or len(key) > MAX_KEY or not key.isprintable():
            return problem(
                400,
                "Bad Request",
                Text(
                    "The Idempotency-Key header must be 1 to %(max)d printable characters.",
                    max=MAX_KEY,
                ),
                {"Idempotency-Key": [Text("Use 1 to %(max)d printable characters.", max=MAX_KEY)]},
                "idempotency-key",
            )
        caller = current_caller()
        digest = _request_hash()
        engine = resources().engine
        with engine.connect() as conn:
            stored = conn.execute(
                text(
                    "SELECT request_hash, status, body FROM idempotency_records "
                    "WHERE tenant_id = :t AND actor = :a AND key = :k"
                ),
                {"t": caller.tenant_id, "a": str(caller.person_id), "k": key},
            ).first()
        if stored is not None:
            if stored.request_hash != digest:
                return problem(
                    422,
                    "Unprocessable Content",
                    Text("This Idempotency-Key was used with a different request."),
                    kind="idempotency",
                )
            response = Response(
                orjson.dumps(stored.body), status=stored.status, mimetype="application/json"
            )
            response.headers["Idempotent-Replayed"] = "true"
            return response
        response = view(*args, **kwargs)
        if isinstance(response, Response) and 200 <= response.status_code < 300:
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO idempotency_records (tenant_id, actor, key, request_hash, "
                        "status, body) VALUES (:t, :a, :k, :h, :s, CAST(:b AS jsonb)) "
                        "ON CONFLICT DO NOTHING"
                    ),
                    {
                        "t": caller.tenant_id,
                        "a": str(caller.person_id),
                        "k": key,
                        "h": digest,
                        "s": response.status_code,
                        "b": response.get_data(as_text=True) or "null",
                    },
                )
        return response

    return cast(F, wrapper)
