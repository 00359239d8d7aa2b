"""What logging in says, and the frame every page shares: waits in words with the right
plural ("1 second", never "1 seconds"), error messages as sentences with a capital letter,
and an icon for every page (the API's documentation included)."""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask

from services.gateway import auth
from services.gateway.throttle import LOGIN
from tests.conftest import DemoOrg
from tests.portal.conftest import csrf_of

pytestmark = pytest.mark.integration


def is_sentence(text: str) -> bool:
    return text[:1].isupper() and text.endswith(".")


@pytest.mark.parametrize(("seconds", "said"), [(1, "1 second"), (2, "2 seconds")])
def test_the_login_page_says_the_wait_with_its_plural(
    app: Flask, org: DemoOrg, monkeypatch: pytest.MonkeyPatch, seconds: int, said: str
) -> None:
    monkeypatch.setattr(auth, "login_backoff", lambda email: seconds)
    client = app.test_client()
    form = {"csrf_token": csrf_of(client), "email": org.emails["admin"], "password": "whatever"}
    response = client.post("/login", data=form)
    assert response.status_code == 429
    assert f"Too many failed attempts: try again in {said}.</p>" in response.get_data(as_text=True)


def test_the_api_says_the_wait_as_a_sentence(app: Flask) -> None:
    email = f"nobody-{uuid.uuid4().hex[:8]}@demo.test"
    client = app.test_client()
    for _ in range(LOGIN.free):
        wrong = client.post("/api/v1/auth/token", json={"email": email, "password": "x" * 12})
        assert wrong.status_code == 401
        assert wrong.get_json()["detail"] == "Wrong e-mail or password."
    waiting = client.post("/api/v1/auth/token", json={"email": email, "password": "x" * 12})
    assert waiting.status_code == 429
    seconds = int(waiting.headers["Retry-After"])
    unit = "second" if seconds == 1 else "seconds"
    assert waiting.get_json()["detail"] == (
        f"Too many failed logins: try again in {seconds} {unit}."
    )


def test_refusals_of_the_api_read_as_sentences(app: Flask) -> None:
    client = app.test_client()
    answers = [
        client.get("/api/v1/me"),
        client.get("/api/v1/me", headers={"Authorization": "Basic abc"}),
        client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"}),
    ]
    details = [a.get_json()["detail"] for a in answers]
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert all(is_sentence(d) for d in details), details
    assert details[2] == "The token is invalid, expired or revoked."


def test_a_broken_reset_link_says_so_in_one_sentence(app: Flask) -> None:
    page = app.test_client().get("/password/reset/not-a-token")
    assert page.status_code == 404
    banner = re.search(
        r'<p class="error banner" role="alert">([^<]+)</p>', page.get_data(as_text=True)
    )
    assert banner and banner.group(1) == "This reset link is not valid."


def test_every_page_has_an_icon(app: Flask) -> None:
    client = app.test_client()
    for path in ("/login", "/api/v1/docs"):
        html = client.get(path).get_data(as_text=True)
        link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
        assert link, f"{path} links no icon"
        with client.get(link.group(1)) as icon:
            assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    # What a browser asks for where no page names an icon (the API's JSON, a download).
    with client.get("/favicon.ico") as fallback:
        assert fallback.status_code == 200
        assert fallback.mimetype == "image/svg+xml"
        assert fallback.get_data().startswith(b"<svg")
