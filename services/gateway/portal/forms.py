"""What every portal page shares: the caller, form input through the API's schemas, reading
one's own writes, and re-rendering a page with its messages next to the fields."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import request
from flask_login import current_user
from marshmallow import Schema, ValidationError

from services.gateway.auth import PortalUser
from services.gateway.problems import flatten
from services.gateway.resources import resources
from shared.domain.errors import DomainError
from shared.domain.weeks import iso_week_of
from shared.read_tokens import InvalidPositionToken, own_position

READ_WAIT_SECONDS = 2.0


def me() -> PortalUser:
    user = current_user._get_current_object()
    assert isinstance(user, PortalUser)
    return user


def this_week() -> str:
    return iso_week_of(datetime.now(UTC))


@dataclass
class FormState:
    """Submitted values (to fill the form in again) and messages per field."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    message: str | None = None


def form_input(
    schema: Schema,
    integers: Iterable[str] = (),
    optional: Iterable[str] = (),
    lists: Iterable[str] = (),
) -> tuple[dict[str, Any] | None, FormState]:
    """The posted form, loaded by the API's ``schema``.

    Form fields are strings: ``integers`` are converted (an unreadable number is left as
    text for the schema to refuse), empty ``optional`` fields become None, ``lists`` read
    every value of a repeated field. Returns (body, state): body is None when invalid.
    """
    raw: dict[str, Any] = {}
    names = set(integers) | set(optional) | set(lists) | set(schema.fields)
    for name in names:
        if name in lists:
            raw[name] = [v for v in request.form.getlist(name) if v.strip()]
            continue
        if name not in request.form:
            continue
        value = request.form[name].strip()
        if name in integers:
            try:
                raw[name] = int(value)
            except ValueError:
                raw[name] = value
        elif name in optional and not value:
            raw[name] = None
        else:
            raw[name] = value
    state = FormState(values=dict(request.form))
    try:
        return schema.load(raw), state
    except ValidationError as err:
        state.errors = flatten(err.messages)
        return None, state


def refused(state: FormState, err: DomainError) -> FormState:
    """A command's refusal, its field messages next to the fields."""
    state.errors.update(err.errors)
    if not err.errors:
        state.message = err.detail
    return state


def sealed(position: int) -> str:
    """A position as the portal's URLs carry it: a token of the caller's organisation
    (shared/read_tokens.py), never the global log position.

    Parameters:
        position: the caller's own write's position.

    Returns:
        The token.
    """
    return resources().position_tokens.seal(me().tenant_id, position)


def as_of(position: int) -> str:
    """The token of the caller's organisation's last event a projection at ``position``
    reached (what a page shows as its freshness)."""
    tenant_id = me().tenant_id
    return resources().position_tokens.seal(tenant_id, own_position_reached(tenant_id, position))


_OWN_POSITIONS: dict[tuple[Any, int], int] = {}
_OWN_POSITIONS_SIZE = 4096


def own_position_reached(tenant_id: Any, reached: int) -> int:
    """:func:`shared.read_tokens.own_position` for a position a projection reached,
    remembered per organisation and position: the log below a position it reached never
    changes (commits come in position order, so every snapshot sees a prefix of the log),
    and on a database without planner statistics the walk costs a millisecond of
    PostgreSQL's time. Only for positions a projection reached: a position beyond the
    log's head would be answered before later events took their places."""
    key = (tenant_id, reached)
    found = _OWN_POSITIONS.get(key)
    if found is None:
        with resources().engine.connect() as conn:
            found = own_position(conn, tenant_id, reached)
        if len(_OWN_POSITIONS) >= _OWN_POSITIONS_SIZE:
            _OWN_POSITIONS.clear()
        _OWN_POSITIONS[key] = found
    return found


def connection(conn: Any = None) -> Any:
    """``conn`` as a context that leaves it open (a page's reads share one connection), or
    a new connection of the app's engine."""
    return contextlib.nullcontext(conn) if conn is not None else resources().engine.connect()


def seen(projection: str) -> int:
    """The projection's position, after waiting (bounded) for the caller's last write.

    A page redirected to after a write carries ``?after=<token>`` (:func:`sealed`) and
    shows it; anything else waits for nothing.
    """
    try:
        after = resources().position_tokens.open(me().tenant_id, request.args.get("after", ""))
    except InvalidPositionToken:
        after = 0
    return resources().projections.wait_for(projection, after, READ_WAIT_SECONDS if after else 0.0)
