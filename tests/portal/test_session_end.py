"""A page whose session ended: htmx is sent to the login page as a whole (401 +
``HX-Redirect``, ``next`` = the tab's page), a plain form post is redirected there with a
message, and a failed CSRF check on a page answers a page, never raw JSON. The API keeps
problem+json."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from tests.portal.conftest import Member, csrf_of

pytestmark = pytest.mark.integration

HTMX = {"HX-Request": "true"}


def ended(member: Member) -> str:
    """End the member's session (log out); returns the CSRF token the open page still has."""
    token = csrf_of(member.client, "/")
    response = member.client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert member.client.get("/").status_code == 302  # the session is gone
    return token


def login_query(location: str) -> dict[str, list[str]]:
    parts = urlsplit(location)
    assert parts.path == "/login", location
    return parse_qs(parts.query)


def test_an_htmx_post_after_the_session_ended_navigates_to_the_login_page(
    member: Callable[..., Member],
) -> None:
    m = member()
    token = ended(m)
    response = m.client.post(
        "/actions",
        data={"tactic": "share_summary", "minutes": "10", "note": "typed before the end"},
        headers={**HTMX, "X-CSRFToken": token, "HX-Current-URL": "http://compound.test/?x=1"},
    )
    assert response.status_code == 401
    query = login_query(response.headers["HX-Redirect"])
    assert query == {"next": ["/?x=1"], "ended": ["1"]}
    assert "application/json" not in response.content_type


def test_an_htmx_page_load_after_the_session_ended_keeps_the_page_as_next(
    member: Callable[..., Member],
) -> None:
    m = member()
    ended(m)
    response = m.client.get(
        "/outcomes", headers={**HTMX, "HX-Current-URL": "http://compound.test/plan"}
    )
    assert response.status_code == 401
    assert login_query(response.headers["HX-Redirect"])["next"] == ["/plan"]


@pytest.mark.parametrize(
    "current",
    ["http://evil.example/plan", "http://compound.test//evil.example", "/%09/evil.example", ""],
)
def test_a_hostile_current_url_comes_back_to_the_home_page(
    client: FlaskClient, current: str
) -> None:
    response = client.get("/plan", headers={**HTMX, "HX-Current-URL": current})
    assert response.status_code == 401
    assert login_query(response.headers["HX-Redirect"])["next"] == ["/"]


def test_a_plain_form_post_after_the_session_ended_goes_to_the_login_page_with_a_message(
    member: Callable[..., Member],
) -> None:
    m = member()
    token = ended(m)
    response = m.client.post(
        "/outcomes",
        data={"csrf_token": token, "kind": "recognition", "note": "kept?"},
        headers={"Referer": "http://compound.test/outcomes"},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert login_query(location) == {"next": ["/outcomes"], "ended": ["1"]}
    page = m.client.get(location)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Your session ended: log in again." in html
    assert "data-session-ended" in html  # drafts.js puts the typed text back after login
    # Logging in there comes back to the form's page.
    response = m.client.post(
        location,
        data={"csrf_token": csrf_of(m.client, location), "email": m.email, "password": m.password},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/outcomes"


def test_a_failed_csrf_check_on_a_page_answers_a_page_not_json(
    member: Callable[..., Member],
) -> None:
    m = member()
    response = m.client.post(
        "/account/password",
        data={"csrf_token": "forged", "current_password": "x", "new_password": "y"},
        headers={"Referer": "http://compound.test/account"},
    )
    assert response.status_code == 400
    assert response.content_type.startswith("text/html")
    html = response.get_data(as_text=True)
    assert "The form was not sent" in html
    assert 'href="/account"' in html
    assert '{"detail"' not in html


def test_a_failed_csrf_check_from_htmx_reloads_the_page(member: Callable[..., Member]) -> None:
    m = member()
    response = m.client.post(
        "/actions",
        data={"tactic": "share_summary", "minutes": "10"},
        headers={**HTMX, "X-CSRFToken": "forged", "HX-Current-URL": "http://compound.test/"},
    )
    assert response.status_code == 400
    assert response.headers["HX-Redirect"] == "/"


def test_the_api_keeps_problem_json(member: Callable[..., Member]) -> None:
    m = member()
    response = m.client.post("/api/v1/me/tokens", json={"name": "x"})
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert "CSRF check failed" in response.get_json()["detail"]
    m.client.post("/logout", data={"csrf_token": csrf_of(m.client, "/")})
    response = m.client.get("/api/v1/me", headers=HTMX)
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert "HX-Redirect" not in response.headers
