"""Domain errors: one type per kind of refusal, mapped once to HTTP in the gateway."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base: a request the domain refuses, with a message fit for the user."""

    status = 400
    title = "Bad Request"

    def __init__(self, detail: str, errors: Mapping[str, list[str]] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = dict(errors or {})


class NotFound(DomainError):
    status, title = 404, "Not Found"


class Forbidden(DomainError):
    status, title = 403, "Forbidden"


class Unauthorized(DomainError):
    status, title = 401, "Unauthorized"


class Conflict(DomainError):
    status, title = 409, "Conflict"


class InvalidInput(DomainError):
    """Field-level problems: ``errors`` maps each field to its messages."""

    status, title = 422, "Unprocessable Content"


class Gone(DomainError):
    status, title = 410, "Gone"
