"""services/gateway/api/fast_dump.py: a compiled dump gives what ``Schema.dump`` gives."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, fields, post_dump

from services.gateway.api.fast_dump import compile_dump, json_response
from services.gateway.api.levers import LeverWeek, OrgLeversOut, TeamWeeks
from shared.releases.reads import unreleased_week


class Odd(fields.String):
    """A field class the compiler does not know: marshmallow serialises it."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else f"<{value}>"


class Inner(Schema):
    n = fields.Integer(allow_none=True)
    x = fields.Float(allow_none=True)


class Shapes(Schema):
    s = fields.String(allow_none=True)
    i = fields.Integer(allow_none=True)
    f = fields.Float(allow_none=True)
    b = fields.Boolean(allow_none=True)
    raw = fields.Raw(allow_none=True)
    renamed = fields.String(data_key="other-name")
    moved = fields.String(attribute="source")
    defaulted = fields.Integer(dump_default=7)
    odd = Odd(allow_none=True)
    strings = fields.List(fields.String(), allow_none=True)
    odds = fields.List(Odd(), allow_none=True)
    inner = fields.Nested(Inner, allow_none=True)
    inners = fields.List(fields.Nested(Inner), allow_none=True)
    many = fields.Nested(Inner, many=True, allow_none=True)
    narrowed = fields.Nested(Inner, only=("n",), allow_none=True)
    by_key = fields.Dict(keys=fields.String(), values=fields.Nested(Inner), allow_none=True)
    plain = fields.Dict(allow_none=True)
    keys = fields.String(allow_none=True)  # a dict method's name: marshmallow's getattr
    as_text = fields.Integer(as_string=True, allow_none=True)


class Hooked(Schema):
    a = fields.Integer()

    @post_dump
    def _double(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {**data, "a": data["a"] * 2}


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)
numbers = st.one_of(st.none(), st.booleans(), st.integers(-100, 100), st.floats(-1e3, 1e3))
inner = st.fixed_dictionaries({}, optional={"n": numbers, "x": numbers, "extra": scalars})
shapes = st.fixed_dictionaries(
    {},
    optional={
        "s": st.one_of(st.none(), st.text(max_size=5), st.integers()),
        "i": numbers,
        "f": numbers,
        "b": st.one_of(st.none(), st.booleans(), st.integers(0, 1)),
        "raw": scalars,
        "renamed": st.text(max_size=3),
        "source": st.text(max_size=3),
        "defaulted": st.integers(),
        "odd": scalars,
        "strings": st.one_of(st.none(), st.lists(st.one_of(st.text(max_size=3), st.integers()))),
        "odds": st.one_of(st.none(), st.lists(st.text(max_size=3))),
        "inner": st.one_of(st.none(), inner),
        "inners": st.one_of(st.none(), st.lists(inner, max_size=3)),
        "many": st.one_of(st.none(), st.lists(inner, max_size=3)),
        "narrowed": st.one_of(st.none(), inner),
        "by_key": st.one_of(st.none(), st.dictionaries(st.text(max_size=3), inner, max_size=3)),
        "plain": st.one_of(st.none(), st.dictionaries(st.text(max_size=3), scalars, max_size=3)),
        "keys": st.text(max_size=3),
        "as_text": st.one_of(st.none(), st.integers()),
        "unknown": scalars,
    },
)


@settings(max_examples=300, deadline=None)
@given(shapes)
def test_every_field_kind_dumps_as_marshmallow_does(obj: dict[str, Any]) -> None:
    schema = Shapes()
    assert compile_dump(schema)(obj) == schema.dump(obj)


@settings(max_examples=50, deadline=None)
@given(st.lists(shapes, max_size=4))
def test_a_schema_of_many(objs: list[dict[str, Any]]) -> None:
    schema = Shapes(many=True)
    assert compile_dump(schema)(objs) == schema.dump(objs)


def test_values_of_other_types_go_through_marshmallow() -> None:
    obj = {"i": 2.9, "f": 3, "s": 5, "b": 1, "odd": "x", "strings": [1, "a"], "as_text": 4}
    dumped = compile_dump(Shapes())(obj)
    assert dumped == Shapes().dump(obj)
    assert (type(dumped["i"]), type(dumped["f"]), dumped["s"]) == (int, float, "5")
    assert (dumped["odd"], dumped["strings"], dumped["as_text"]) == ("<x>", ["1", "a"], "4")


def test_a_schema_with_dump_hooks_is_dumped_by_marshmallow() -> None:
    assert compile_dump(Hooked())({"a": 2}) == {"a": 4}


def test_an_object_not_a_dict_is_dumped_by_marshmallow() -> None:
    class Thing:
        n, x = 3, 1.5

    assert compile_dump(Inner())(Thing()) == {"n": 3, "x": 1.5}


def _released(week: str) -> dict[str, Any]:
    cell = {"value": 3, "n": 7, "suppressed": False, "trend": None, "margin": 1.25}
    return {
        **unreleased_week(2900),
        "week": week,
        "released": True,
        "k": 5,
        "members": 12,
        "levers": {"participation": {**cell, "reason": None, "parts": ["a", "b"]}},
        "figures": {"hidden": "left out by the schema"},
        "nudges": [{"lever": "participation", "text": "x"}],
    }


def test_the_organisation_view_dumps_as_its_schema() -> None:
    weeks = [unreleased_week(2900), _released("2025-W40"), unreleased_week(2901)]
    team: dict[str, Any] = {"team_id": "t", "name": None, "weeks": weeks, "extra": 1}
    view: dict[str, Any] = {"k": 5, "model_version": 2, "weeks": weeks, "teams": [team, team]}
    assert compile_dump(LeverWeek(many=True))(weeks) == LeverWeek(many=True).dump(weeks)
    assert compile_dump(TeamWeeks())(team) == TeamWeeks().dump(team)
    # as_of_position is a field of the gateway's own (a token sealed per request): left out
    # here, it is dumped by marshmallow either way.
    assert compile_dump(OrgLeversOut())(view) == OrgLeversOut().dump(view)


@pytest.mark.parametrize("data", [{"b": 1, "a": [1.5, None, "é"]}, []])
def test_the_response_is_jsonify_s_text(data: Any) -> None:
    from flask import Flask, jsonify

    app = Flask(__name__)
    with app.app_context():
        expected = jsonify(data)
        got = json_response(data)
    assert orjson.loads(got.get_data()) == orjson.loads(expected.get_data())
    assert got.get_data().endswith(b"\n") and got.mimetype == "application/json"


def test_the_response_has_the_status_given() -> None:
    assert json_response({}).status_code == 200
    assert json_response({"a": 1}, 201).status_code == 201
