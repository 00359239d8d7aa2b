"""Position fields of the API: log positions leave and enter only as opaque tokens.

A write answers ``position``, a read ``as_of_position``, and reads take ``?min_position=``
back: all three are tokens sealed for the caller's tenant (shared/read_tokens.py), so they
reveal nothing of other tenants' activity. A raw integer is refused with a 422 that says
what to send instead (docs/api.md, "Read your writes").
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

from services.gateway.auth import current_caller
from services.gateway.resources import resources
from shared.domain.errors import N_, Text
from shared.read_tokens import InvalidPositionToken, own_position

RAW_POSITION = N_(
    "Send back a position token (a write's `position` or a read's `as_of_position`): "
    "raw log positions are not accepted."
)
NOT_A_TOKEN = N_("Not a position token of this organisation.")
POSITION_TOKEN = "an opaque token of a log position, for `?min_position=` (docs/api.md)"


class PositionToken(fields.String):
    """``?min_position=``: a token -> the position it seals (absent: 0)."""

    def _deserialize(  # type: ignore[override]  # loads a str, gives the position
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> int:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text.strip().isdigit():
            raise ValidationError(Text(RAW_POSITION))
        try:
            return resources().position_tokens.open(current_caller().tenant_id, text)
        except InvalidPositionToken:
            raise ValidationError(Text(NOT_A_TOKEN)) from None


class WrittenPosition(fields.String):
    """A write's own position -> its token."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return resources().position_tokens.seal(current_caller().tenant_id, int(value))


class AsOfPosition(fields.String):
    """A projection's position -> the token of the caller's tenant's last event it reached.

    Another tenant's writes move the projection, not this token.
    """

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        tenant_id = current_caller().tenant_id
        with resources().engine.connect() as conn:
            mine = own_position(conn, tenant_id, int(value))
        return resources().position_tokens.seal(tenant_id, mine)
