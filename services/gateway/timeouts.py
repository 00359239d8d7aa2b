"""A web request whose SQL ran past the statement timeout (``COMPOUND_STATEMENT_TIMEOUT_MS``,
set on the gateway's engine by services/gateway/resources.py) is answered 503 with
Retry-After: problem+json on the API, a short page elsewhere. PostgreSQL cancelled the
statement, the transaction rolled back and the connection goes back to the pool: the worker
thread is free again at once."""

from __future__ import annotations

import psycopg
from flask import Response, render_template
from sqlalchemy.exc import DBAPIError

RETRY_AFTER_SECONDS = 5
"""What the 503 asks the client to wait before trying again."""


def is_statement_timeout(err: BaseException) -> bool:
    """Whether ``err`` is PostgreSQL cancelling a statement (SQLSTATE 57014).

    Parameters:
        err: any exception, raised by SQLAlchemy (wrapping psycopg) or by psycopg itself.

    Returns:
        True for a statement cancelled by the statement timeout (or by an operator).
    """
    if isinstance(err, DBAPIError):
        err = err.orig if err.orig is not None else err
    return isinstance(err, psycopg.errors.QueryCanceled)


def busy_page() -> Response:
    """The page answering a page request whose statement ran too long (the API's answer is
    problem+json, services/gateway/problems.py).

    Returns:
        503 with Retry-After: :data:`RETRY_AFTER_SECONDS`, saying to try again.
    """
    page = render_template("busy.html", retry_after=RETRY_AFTER_SECONDS)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return Response(page, status=503, headers=headers, mimetype="text/html")
