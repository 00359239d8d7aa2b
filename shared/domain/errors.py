"""Domain errors: one type per kind of refusal, mapped once to HTTP in the gateway.

Each error carries a stable ``kind`` (the last part of the problem's ``type`` URI, docs/api.md,
"Errors"): clients match on it and on the field names, never on the text, which reads as a
sentence and is translated where it is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Translate = Callable[[str, str | None, int | None], str]
"""``(msgid, plural msgid or None, count or None) -> text`` in the reader's language."""


def _english(msgid: str, plural: str | None, num: int | None) -> str:
    return plural if plural is not None and num != 1 else msgid


_translate: Translate = _english


def use_translator(translate: Translate | None) -> None:
    """Look every :class:`Text` up with ``translate`` from now on (the gateway registers the
    catalogue's, in the request's language; None: English again). The domain itself imports
    no catalogue: it only marks its messages."""
    global _translate
    _translate = translate or _english


def N_(message: str) -> str:
    """Mark a module constant for the catalogue; wrap it in :class:`Text` where it is used."""
    return message


class Text(str):
    """A message for a person, in the reader's language: the catalogue's translation of
    ``msgid`` with ``%(name)s`` placeholders filled from ``values`` (English where no
    translator is registered, :func:`use_translator`). ``msgid`` and ``values`` stay on it.
    :func:`plural_text` makes one whose form follows a count.

    Example:
        Text("At most %(limit)d events per request.", limit=50000)
    """

    msgid: str
    plural: str | None
    values: dict[str, Any]

    def __new__(cls, msgid: str, **values: Any) -> Text:
        return cls._made(msgid, None, values)

    @classmethod
    def _made(cls, msgid: str, plural: str | None, values: dict[str, Any]) -> Text:
        found = _translate(msgid, plural, values.get("num") if plural is not None else None)
        made = super().__new__(cls, found % values if values else found)
        made.msgid, made.plural, made.values = msgid, plural, values
        return made


def plural_text(singular: str, plural: str, num: int, **values: Any) -> Text:
    """A :class:`Text` in the form ``num`` asks for (``%(num)d`` is ``num``).

    Example:
        plural_text("%(num)d event cannot be imported.", "%(num)d events cannot be imported.", 3)
    """
    return Text._made(singular, plural, {**values, "num": num})


class DomainError(Exception):
    """Base: a request the domain refuses, with a message fit for the user.

    Parameters:
        detail: what was refused and why, as a sentence.
        errors: each field's messages (sentences), by field name.
        kind: the stable code of this refusal (default: the class's).
    """

    status = 400
    title = "Bad Request"
    kind = "bad-request"

    def __init__(
        self,
        detail: str,
        errors: Mapping[str, list[str]] | None = None,
        kind: str | None = None,
    ):
        super().__init__(detail)
        self.detail = detail
        self.errors = dict(errors or {})
        if kind is not None:
            self.kind = kind


class NotFound(DomainError):
    status, title, kind = 404, "Not Found", "not-found"


class Forbidden(DomainError):
    status, title, kind = 403, "Forbidden", "forbidden"


class Unauthorized(DomainError):
    status, title, kind = 401, "Unauthorized", "unauthorized"


class Conflict(DomainError):
    status, title, kind = 409, "Conflict", "conflict"


class InvalidInput(DomainError):
    """Field-level problems: ``errors`` maps each field to its messages."""

    status, title, kind = 422, "Unprocessable Content", "validation"


class Gone(DomainError):
    status, title, kind = 410, "Gone", "gone"
