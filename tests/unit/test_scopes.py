"""Which tokens can be made (shared/domain/scopes.py), without a database."""

from __future__ import annotations

import pytest

from shared.domain.scopes import SCOPES, scopes_of_role, token_errors


def test_only_admins_hold_the_admin_scope():
    assert scopes_of_role("admin") == frozenset(SCOPES)
    for role in ("employee", "manager"):
        assert scopes_of_role(role) == frozenset(SCOPES) - {"admin"}


@pytest.mark.parametrize(
    ("role", "scopes", "days", "fields"),
    [
        ("employee", ["journal:read"], 90, set()),
        ("admin", list(SCOPES), 365, set()),
        ("employee", ["journal:read"], 1, set()),
        ("employee", ["journal:read"], 366, {"expires_in_days"}),
        ("employee", ["journal:read"], 0, {"expires_in_days"}),
        ("employee", [], 90, {"scopes"}),
        ("employee", ["admin"], 90, {"scopes"}),
        ("manager", ["levers:write"], 90, {"scopes"}),
        ("employee", ["root"], 0, {"scopes", "expires_in_days"}),
    ],
)
def test_token_errors_name_each_field(role: str, scopes: list[str], days: int, fields: set[str]):
    errors = token_errors(role, scopes, days)
    assert set(errors) == fields
    for messages in errors.values():
        assert messages and all(isinstance(m, str) and m.endswith(".") for m in messages)
