"""Changing one's password is throttled per person: after 5 wrong current passwords the
next try waits (429 + ``Retry-After``, the message next to the field), even with the right
password and on another gateway process sharing the Redis."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from services.gateway import create_app
from services.gateway.throttle import PASSWORD
from shared.settings import Settings
from tests.portal.conftest import Member, csrf_of

pytestmark = pytest.mark.integration


@pytest.fixture
def second_gateway(settings: Settings) -> Iterator[Flask]:
    """Another gateway process: its own app and Redis client, the same Redis server."""
    app = create_app({"COMPOUND_SETTINGS": settings, "TESTING": True, "RATELIMIT_ENABLED": False})
    yield app
    app.extensions["compound"].close()


def change(m: Member, current: str, new: str = "a-new-long-password") -> tuple[int, str, str]:
    response = m.post(
        "/account/password",
        {"current_password": current, "new_password": new, "confirm_password": new},
    )
    return (
        response.status_code,
        response.headers.get("Retry-After", ""),
        response.get_data(as_text=True),
    )


def test_five_wrong_passwords_then_even_the_right_one_waits_on_every_process(
    app: Flask, second_gateway: Flask, member: Callable[..., Member]
) -> None:
    m = member()
    for _ in range(PASSWORD.free):
        status, _, html = change(m, "not-my-password")
        assert status == 422
        assert "That is not your current password." in html
    status, retry_after, html = change(m, m.password)
    assert status == 429
    assert int(retry_after) >= 1
    assert "Too many wrong passwords" in html
    # The same person, logged in on another gateway process: the wait holds there too.
    other = second_gateway.test_client()
    other.post(
        "/login",
        data={"csrf_token": csrf_of(other), "email": m.email, "password": m.password},
    )
    response = other.post(
        "/account/password",
        data={
            "csrf_token": csrf_of(other, "/account"),
            "current_password": m.password,
            "new_password": "another-long-password",
            "confirm_password": "another-long-password",
        },
    )
    assert response.status_code == 429
    assert response.headers["Retry-After"]


def test_a_right_password_before_the_limit_clears_the_count(
    member: Callable[..., Member],
) -> None:
    m = member()
    for _ in range(PASSWORD.free - 1):
        assert change(m, "not-my-password")[0] == 422
    assert change(m, m.password, "a-new-long-password")[0] == 302
    # Counted afresh: as many wrong ones again, then the (new) right one, still no wait.
    for _ in range(PASSWORD.free - 1):
        assert change(m, "not-my-password")[0] == 422
    assert change(m, "a-new-long-password", "a-third-long-password")[0] == 302
