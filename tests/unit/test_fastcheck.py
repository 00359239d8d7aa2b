"""The compiled fast path agrees with marshmallow on every input (property test)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError, fields, validate

from shared.eventlog import CATALOGUE
from shared.eventlog.events import IsoWeek
from shared.eventlog.fastcheck import compile_schema

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
OFFSETS = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9, minutes=-30))]
)


def values_for(field: fields.Field) -> st.SearchStrategy[Any]:
    choices = [v.choices for v in field.validators if isinstance(v, validate.OneOf)]
    if choices:
        typical: st.SearchStrategy[Any] = st.sampled_from(list(choices[0]))
    elif isinstance(field, IsoWeek):
        typical = st.builds(
            lambda y, w: f"{y}-W{w:02d}", st.integers(2020, 2030), st.integers(0, 54)
        )
    elif isinstance(field, fields.UUID):
        typical = st.integers(0, 9).flatmap(
            lambda i: (
                st.uuids().map(str)
                if i
                else st.uuids().map(lambda u: str(u).upper())
                if i % 2
                else st.uuids().map(lambda u: u.hex)
            )
        )
    elif isinstance(field, fields.AwareDateTime):
        moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9998, 1, 1))
        typical = st.one_of(
            st.builds(lambda d, tz: d.replace(tzinfo=tz).isoformat(), moments, OFFSETS),
            moments.map(lambda d: d.isoformat()),
            moments.map(lambda d: d.replace(microsecond=0).isoformat() + "Z"),
        )
    elif isinstance(field, fields.Date):
        typical = st.one_of(st.dates().map(lambda d: d.isoformat()), st.just("2026-02-30"))
    elif isinstance(field, fields.Boolean):
        typical = st.one_of(st.booleans(), st.sampled_from(["true", "1", 1, 0, "no"]))
    elif isinstance(field, fields.Integer):
        typical = st.one_of(st.integers(-5, 500), st.integers(1, 12), st.just(True), st.just(4.0))
    elif isinstance(field, fields.List):
        typical = st.lists(values_for(field.inner), max_size=7)
    elif isinstance(field, fields.Dict):
        keys = st.one_of(
            st.sampled_from(list(field.key_field.validators[0].choices)), st.text(max_size=3)
        )
        typical = st.dictionaries(keys, values_for(field.value_field), max_size=11)
    elif isinstance(field, fields.String):
        typical = st.one_of(
            st.text(max_size=30), st.text(min_size=63, max_size=65, alphabet="0123456789abcdef")
        )
    else:
        typical = JUNK
    return st.integers(0, 19).flatmap(lambda i: JUNK if i == 0 else typical)


@st.composite
def payloads(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    event_type = draw(st.sampled_from(list(CATALOGUE)))
    data = {}
    for name, field in event_type.schema.fields.items():
        if draw(st.integers(0, 29)) > 0:
            data[name] = draw(values_for(field))
    if draw(st.integers(0, 19)) == 0:
        data[draw(st.text(max_size=4))] = draw(JUNK)
    return event_type.name, data


def reference(name: str, data: dict[str, Any]) -> Any:
    try:
        return orjson.loads(orjson.dumps(CATALOGUE.current(name).schema.load(data)))
    except ValidationError:
        return "invalid"


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads())
def test_fast_path_agrees_with_marshmallow(case: tuple[str, dict[str, Any]]):
    name, data = case
    fast = compile_schema(CATALOGUE.current(name).schema)
    assert fast is not None
    result = fast(data)
    if result is not None:
        assert result == reference(name, data)


def test_fast_path_takes_the_common_case():
    data = {
        "action_id": str(uuid.uuid4()),
        "person_id": str(uuid.uuid4()),
        "tactic": "learning_bit",
        "minutes": 10,
        "audience": "team",
    }
    fast = compile_schema(CATALOGUE.current("MicroActionLogged").schema)
    assert fast is not None and fast(data) == {**data, "note": None}


@pytest.mark.parametrize("name", [t.name for t in CATALOGUE])
def test_every_catalogue_type_has_a_fast_path(name: str):
    assert compile_schema(CATALOGUE.current(name).schema) is not None
