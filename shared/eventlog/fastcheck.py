"""A fast path for validating event payloads, compiled from their marshmallow schemas.

marshmallow's ``load`` costs about 12 µs for a small event, which caps a bulk import near
80,000 events/s on one core. For the field types and validators the catalogue uses, this
module compiles a plain-Python checker that accepts exactly the inputs marshmallow accepts
in their plain form (a UUID as a string, a boolean as ``true``/``false`` ...) and returns the
JSON-native payload that ``orjson.dumps(schema.load(data))`` would store.

Whenever the checker is not sure (any invalid, unusual or unsupported input) it returns
``None`` and the caller asks marshmallow, which then either normalises the value or raises
with its per-field messages. So the schema stays the single source of truth; a property test
(tests/unit/test_fastcheck.py) checks that both paths always agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from marshmallow import Schema, fields, validate
from marshmallow.utils import missing

from shared.domain.bounds import day_in_window, in_window, week_in_window
from shared.domain.weeks import InvalidIsoWeek
from shared.domain.working_hours import time_zones
from shared.eventlog.iso_week_field import IsoWeek
from shared.eventlog.time_fields import Day, Timestamp, TimeZone

Checker = Callable[[Any], Any]
"""Returns the normalised value, or raises :class:`_Unsure`."""


class _Unsure(Exception):
    """Leave this input to marshmallow."""


_UNSURE = _Unsure()
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?(Z|[+-]\d{2}:\d{2})$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _one_of(choices: frozenset[Any]) -> Callable[[Any], bool]:
    return lambda v: v in choices


def _length(lo: int | None, hi: int | None, eq: int | None) -> Callable[[Any], bool]:
    if eq is not None:
        return lambda v: len(v) == eq
    return lambda v: (lo is None or len(v) >= lo) and (hi is None or len(v) <= hi)


def _range(lo: Any, hi: Any) -> Callable[[Any], bool]:
    return lambda v: (lo is None or v >= lo) and (hi is None or v <= hi)


def _validator_check(field: fields.Field) -> Callable[[Any], bool] | None:
    """A predicate implementing the field's validators, or None if one is unsupported."""
    checks: list[Callable[[Any], bool]] = []
    for rule in field.validators:
        if isinstance(rule, validate.OneOf):
            checks.append(_one_of(frozenset(rule.choices)))
        elif isinstance(rule, validate.Length):
            checks.append(_length(rule.min, rule.max, rule.equal))
        elif isinstance(rule, validate.Range) and rule.min_inclusive and rule.max_inclusive:
            checks.append(_range(rule.min, rule.max))
        else:
            return None
    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(c(v) for c in checks)


def _check_uuid(v: Any) -> str:
    if type(v) is not str or not _UUID.match(v):
        raise _UNSURE
    return v


def _check_str(v: Any) -> str:
    if type(v) is not str:
        raise _UNSURE
    return v


def _check_week(v: Any) -> str:
    if type(v) is not str:
        raise _UNSURE
    try:
        inside = week_in_window(v)
    except InvalidIsoWeek:
        raise _UNSURE from None
    if not inside:
        raise _UNSURE
    return v


def _check_zone(v: Any) -> str:
    if type(v) is not str or v not in time_zones():
        raise _UNSURE
    return v


def _check_int(v: Any) -> int:
    if type(v) is not int:
        raise _UNSURE
    return v


def _check_bool(v: Any) -> bool:
    if type(v) is not bool:
        raise _UNSURE
    return v


def _check_date(v: Any) -> str:
    if type(v) is not str or not _DATE.match(v):
        raise _UNSURE
    try:
        return date.fromisoformat(v).isoformat()
    except ValueError:
        raise _UNSURE from None


def _aware(v: Any) -> datetime:
    """``v`` as an aware datetime, or :data:`_UNSURE` raised."""
    if type(v) is not str or not _DATETIME.match(v):
        raise _UNSURE
    try:
        moment = datetime.fromisoformat(v)
    except ValueError:
        raise _UNSURE from None
    if moment.tzinfo is None:
        raise _UNSURE
    return moment


def _check_datetime(v: Any) -> str:
    return _aware(v).isoformat()


def _check_timestamp(v: Any) -> str:
    moment = _aware(v)
    if not in_window(moment):
        raise _UNSURE
    return moment.isoformat()


def _check_day(v: Any) -> str:
    text = _check_date(v)
    if not day_in_window(date.fromisoformat(text)):
        raise _UNSURE
    return text


_SCALAR_CHECKERS: dict[type[fields.Field], Checker] = {
    fields.UUID: _check_uuid,
    fields.String: _check_str,
    fields.Str: _check_str,
    IsoWeek: _check_week,
    fields.Boolean: _check_bool,
    fields.Bool: _check_bool,
    fields.Date: _check_date,
    fields.AwareDateTime: _check_datetime,
    Timestamp: _check_timestamp,
    Day: _check_day,
    TimeZone: _check_zone,
}
"""The field kinds converted without looking inside (strict integers are one more)."""


def _base_checker(field: fields.Field) -> Checker | None:
    """Type conversion for one field, without its validators."""
    kind = type(field)
    scalar = _SCALAR_CHECKERS.get(kind)
    if scalar is not None:
        return scalar
    if kind in (fields.Integer, fields.Int) and field.strict:  # type: ignore[attr-defined]
        return _check_int
    if kind is fields.List:
        return _list_checker(field)
    if kind is fields.Dict:
        return _dict_checker(field)
    return None


def _list_checker(field: fields.Field) -> Checker | None:
    inner = _field_checker(field.inner)  # type: ignore[attr-defined]
    if inner is None:
        return None

    def check_list(v: Any, inner: Checker = inner) -> list[Any]:
        if type(v) is not list:
            raise _UNSURE
        return [inner(item) for item in v]

    return check_list


def _dict_checker(field: fields.Field) -> Checker | None:
    keys = _field_checker(field.key_field) if field.key_field else None  # type: ignore[attr-defined]
    values = _field_checker(field.value_field) if field.value_field else None  # type: ignore[attr-defined]
    if keys is None or values is None:
        return None

    def check_dict(v: Any, keys: Checker = keys, values: Checker = values) -> dict[str, Any]:
        if type(v) is not dict:
            raise _UNSURE
        return {keys(k): values(x) for k, x in v.items()}

    return check_dict


def _field_checker(field: fields.Field) -> Checker | None:
    if field.data_key is not None or field.attribute is not None:
        return None
    base = _base_checker(field)
    rules = _validator_check(field)
    if base is None or rules is None:
        return None
    allow_none = field.allow_none

    def check(v: Any, base: Checker = base, rules: Callable[[Any], bool] = rules) -> Any:
        if v is None:
            if allow_none:
                return None
            raise _UNSURE
        value = base(v)
        if not rules(v):
            raise _UNSURE
        return value

    return check


def compile_schema(schema: Schema) -> Callable[[Mapping[str, Any]], dict[str, Any] | None] | None:
    """A fast checker for ``schema``, or None if the schema uses anything unsupported.

    The checker returns the normalised JSON-native payload, or None to mean "ask marshmallow".
    It is generated as one Python function per schema: the common field kinds (strings, UUIDs,
    strict integers, booleans and their validators) are checked inline, the rest by the field
    checkers above; a bulk append validates tens of thousands of events per call.

    Parameters:
        schema: a marshmallow schema instance.

    Returns:
        The checker, or None when a field kind, validator or hook is not supported.
    """
    if schema._hooks and any(schema._hooks.values()):  # pre/post-load or schema validators
        return None
    namespace: dict[str, Any] = {"_Unsure": _Unsure, "_missing": missing, "_uuid": _UUID.match}
    body: list[str] = []
    for index, (name, field) in enumerate(schema.load_fields.items()):
        checker = _field_checker(field)
        if checker is None:
            return None
        default = field.load_default
        if callable(default) or isinstance(default, (list, dict, set)):
            return None
        namespace[f"default_{index}"] = default
        body.append(f"    v = data.get({name!r}, _missing)")
        body.append("    if v is _missing:")
        if field.required:
            body.append("        return None")
        elif default is not missing:
            body.append(f"        out[{name!r}] = default_{index}")
        else:
            body.append("        pass")
        inline = _inline_checks(field, index, namespace)
        if inline is None:  # a field kind with a conversion: its own checker
            namespace[f"check_{index}"] = checker
            body.append("    else:")
            body.append(f"        out[{name!r}] = check_{index}(v)")
            continue
        body.append("    elif v is None:")
        body.append(f"        out[{name!r}] = None" if field.allow_none else "        return None")
        body.append("    else:")
        for condition in inline:
            body.extend((f"        if {condition}:", "            return None"))
        body.append(f"        out[{name!r}] = v")
    namespace["known"] = frozenset(schema.load_fields)
    source = "\n".join(
        [
            "def check(data):",
            "    if type(data) is not dict or not known.issuperset(data):",
            "        return None",
            "    out = {}",
            "    try:",
            *("    " + line for line in body or ["    pass"]),
            "    except _Unsure:",
            "        return None",
            "    return out",
        ]
    )
    exec(compile(source, f"<fastcheck {type(schema).__name__}>", "exec"), namespace)
    return namespace["check"]


def _inline_checks(field: fields.Field, index: int, namespace: dict[str, Any]) -> list[str] | None:
    """Conditions under which a value of ``field`` (not None) is left to marshmallow, as code.

    None when the field's kind converts its value (dates, lists ...) or is not covered here.
    """
    kind = type(field)
    if kind is fields.UUID:
        checks = ["type(v) is not str or not _uuid(v)"]
    elif kind in (fields.String, fields.Str):
        checks = ["type(v) is not str"]
    elif kind in (fields.Integer, fields.Int) and field.strict:  # type: ignore[attr-defined]
        checks = ["type(v) is not int"]
    elif kind in (fields.Boolean, fields.Bool):
        checks = ["type(v) is not bool"]
    else:
        return None
    for number, rule in enumerate(field.validators):
        if isinstance(rule, validate.OneOf):
            namespace[f"choices_{index}_{number}"] = frozenset(rule.choices)
            checks.append(f"v not in choices_{index}_{number}")
        elif isinstance(rule, validate.Length):
            if rule.equal is not None:
                checks.append(f"len(v) != {rule.equal!r}")
            else:
                if rule.min is not None:
                    checks.append(f"len(v) < {rule.min!r}")
                if rule.max is not None:
                    checks.append(f"len(v) > {rule.max!r}")
        elif isinstance(rule, validate.Range) and rule.min_inclusive and rule.max_inclusive:
            if rule.min is not None:
                namespace[f"low_{index}_{number}"] = rule.min
                checks.append(f"v < low_{index}_{number}")
            if rule.max is not None:
                namespace[f"high_{index}_{number}"] = rule.max
                checks.append(f"v > high_{index}_{number}")
        else:
            return None
    return checks
