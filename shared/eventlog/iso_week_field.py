"""The catalogue's own marshmallow field: an ISO week such as ``2026-W47``.

Its own module so that the catalogue's schemas (events.py) and the fast checker compiled
from them (fastcheck.py) both know it without importing each other.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

from shared.domain.bounds import week_in_window
from shared.domain.weeks import InvalidIsoWeek
from shared.eventlog.time_fields import WINDOW_TEXT


class IsoWeek(fields.String):
    """An ISO week such as ``2026-W47`` that exists in its year (W53 only where there is one)
    and lies inside the catalogue's window."""

    rule_text = f"an existing ISO week, {WINDOW_TEXT}"

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            inside = week_in_window(text)
        except InvalidIsoWeek as err:
            raise ValidationError(str(err)) from None
        if not inside:
            raise ValidationError(f"The week must lie {WINDOW_TEXT}.")
        return text
