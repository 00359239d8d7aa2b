"""The catalogue's own time fields: times, dates and zones inside the catalogue's window.

Every time and date an event carries lies between :data:`shared.domain.bounds.EARLIEST` and
:data:`shared.domain.bounds.LATEST`, and every zone is an IANA name, whoever appends
(docs/events.md, "Bounds"). Their own module so that the catalogue's schemas (events.py) and
the fast checker compiled from them (fastcheck.py) both know them without importing each
other.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from marshmallow import ValidationError, fields

from shared.domain.bounds import EARLIEST, LATEST, day_in_window, in_window
from shared.domain.working_hours import time_zones

WINDOW_TEXT = f"from {EARLIEST.date().isoformat()} to before {LATEST.date().isoformat()}"
"""The catalogue's window in words (messages and docs/events.md)."""


class Timestamp(fields.AwareDateTime):
    """A time with an offset, inside the catalogue's window."""

    rule_text = WINDOW_TEXT

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not in_window(moment):
            raise ValidationError(f"A time must lie {WINDOW_TEXT}.")
        return moment


class Day(fields.Date):
    """A date inside the catalogue's window."""

    rule_text = WINDOW_TEXT

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        day = super()._deserialize(value, attr, data, **kwargs)
        if not day_in_window(day):
            raise ValidationError(f"A date must lie {WINDOW_TEXT}.")
        return day


class TimeZone(fields.String):
    """An IANA time zone name this installation knows (``Europe/Berlin``, ``UTC`` ...)."""

    rule_text = "an IANA time zone"

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        name = super()._deserialize(value, attr, data, **kwargs)
        if name not in time_zones():
            raise ValidationError("Give an IANA time zone, e.g. Europe/Berlin or UTC.")
        return name
