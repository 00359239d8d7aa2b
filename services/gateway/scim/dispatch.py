"""The SCIM views' one way in: call the view, and answer SCIM's exceptions and scim2-models'
validation errors as SCIM Errors. Imported at the first SCIM request, with scim2-models."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from flask import Response
from pydantic import ValidationError
from scim2_models import SCIMException

from services.gateway.problems import as_sentence
from services.gateway.scim.errors import error_response
from shared.domain.errors import Text


def invalid(err: ValidationError) -> Response:
    """A request scim2-models could not read: 400 ``invalidValue`` (``invalidSyntax`` for a
    missing member)."""
    errors = err.errors()
    if not errors:
        return error_response(400, str(err), "invalidValue")
    first = errors[0]
    where = ".".join(str(p) for p in first["loc"])
    message = as_sentence(first["msg"])
    detail = (
        Text("The member %(member)s is not valid: %(message)s", member=where, message=message)
        if where
        else message
    )
    scim_type = "invalidSyntax" if first["type"] == "missing" else "invalidValue"
    return error_response(400, detail, scim_type)


def call(module: str, name: str, kwargs: dict[str, Any]) -> Response:
    """The answer of view ``name`` of ``services.gateway.scim.<module>``."""
    view = getattr(import_module(f"services.gateway.scim.{module}"), name)
    try:
        answer: Response = view(**kwargs)
    except SCIMException as err:
        return error_response(err)
    except ValidationError as err:
        return invalid(err)
    return answer
