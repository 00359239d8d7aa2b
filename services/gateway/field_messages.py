"""marshmallow's own field messages in the reader's language.

marshmallow formats its messages in English ("Must be one of: team, private.") before
Compound sees them. :func:`localised` recognises each of its templates and gives the
catalogue's translation, with the template's values put back ("Muss eines der folgenden
sein: team, private."). A message it does not know (Compound's own are :class:`Text`
already) is left as it is.
"""

from __future__ import annotations

import re
from functools import cache

from shared.domain.errors import N_, Text

TEMPLATES = (
    N_("Missing data for required field."),
    N_("Field may not be null."),
    N_("Unknown field."),
    N_("Invalid input type."),
    N_("Invalid type."),
    N_("Invalid value."),
    N_("Invalid input."),
    N_("Not a valid string."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Not a valid boolean."),
    N_("Not a valid UUID."),
    N_("Not a valid date."),
    N_("Not a valid datetime."),
    N_("Not a valid aware datetime."),
    N_("Not a valid naive datetime."),
    N_("Not a valid time."),
    N_("Not a valid email address."),
    N_("Not a valid URL."),
    N_("Not a valid list."),
    N_("Not a valid tuple."),
    N_("Not a valid mapping type."),
    N_("Not a valid utf-8 string."),
    N_("Not a valid period of time."),
    N_("Number too large."),
    N_("Special numeric values (nan or infinity) are not permitted."),
    N_("String does not match expected pattern."),
    N_("Must be one of: %(choices)s."),
    N_("Must be equal to %(other)s."),
    N_("Length must be between %(min)s and %(max)s."),
    N_("Length must be %(equal)s."),
    N_("Longer than maximum length %(max)s."),
    N_("Shorter than minimum length %(min)s."),
    N_("Must be greater than or equal to %(min)s and less than or equal to %(max)s."),
    N_("Must be greater than %(min)s and less than %(max)s."),
    N_("Must be greater than or equal to %(min)s and less than %(max)s."),
    N_("Must be greater than %(min)s and less than or equal to %(max)s."),
    N_("Must be greater than or equal to %(min)s."),
    N_("Must be greater than %(min)s."),
    N_("Must be less than or equal to %(max)s."),
    N_("Must be less than %(max)s."),
)
"""marshmallow's messages (its fields' and validators'), its ``{name}`` as ``%(name)s``."""

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    found = []
    for template in TEMPLATES:
        parts = _PLACEHOLDER.split(template)  # text, name, text, name, ..., text
        regex = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
        )
        found.append((re.compile(regex + r"\Z"), template))
    return tuple(found)


def localised(message: str) -> str:
    """``message`` in the reader's language when it is one of marshmallow's (see module).

    Example:
        localised("Not a valid integer.")  # "Keine gültige Ganzzahl." in German
    """
    if isinstance(message, Text):
        return message
    for pattern, template in _patterns():
        found = pattern.match(message)
        if found:
            return Text(template, **found.groupdict())
    return message


def localised_fields(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """Every message of ``{field: [message, ...]}`` through :func:`localised`."""
    return {name: [localised(m) for m in messages] for name, messages in fields.items()}
