"""Steps of the second-factor tests: enrol in the account page, log in with a code."""

from __future__ import annotations

import re
import time

import pyotp
from flask.testing import FlaskClient

from tests.portal.conftest import Member, csrf_of

SECRET = re.compile(r'data-totp-secret="([A-Z2-7]+)"')
RECOVERY = re.compile(r"<li><code>([a-z0-9-]{19})</code></li>")


def code_at(secret: str, steps_ahead: int = 0) -> str:
    """The TOTP code of the step ``steps_ahead`` after now (the gateway allows one step of
    drift, so the next step's code is good once; this step's was spent on enrolment)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def wrong_code(secret: str) -> str:
    """Six digits that are the code of no step the gateway accepts now."""
    good = {code_at(secret, k) for k in (-2, -1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in good)


def secret_on(html: str) -> str:
    match = SECRET.search(html)
    assert match, "no key on the enrolment page"
    return match.group(1)


def enrol(m: Member) -> tuple[str, list[str]]:
    """Turn the member's second factor on; returns (secret, recovery codes)."""
    secret = secret_on(m.page("/account/second-factor"))
    response = m.post("/account/second-factor", {"code": code_at(secret)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert response.headers["Location"] == "/account/second-factor/recovery-codes"
    codes = RECOVERY.findall(m.page(response.headers["Location"]))
    assert len(codes) == 10
    return secret, codes


def password_step(client: FlaskClient, email: str, password: str, next_page: str = "") -> str:
    """Log in with the password; returns where the gateway sends the browser."""
    path = f"/login?next={next_page}" if next_page else "/login"
    response = client.post(
        path, data={"csrf_token": csrf_of(client), "email": email, "password": password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return str(response.headers["Location"])


def code_step(client: FlaskClient, code: str) -> tuple[int, str, str]:
    """Post a code at the second step: (status, Location or page, Retry-After)."""
    response = client.post(
        "/login/code", data={"csrf_token": csrf_of(client, "/login/code"), "code": code}
    )
    where = response.headers.get("Location") or response.get_data(as_text=True)
    return response.status_code, where, response.headers.get("Retry-After", "")


def logged_out(m: Member) -> None:
    m.client.post("/logout", data={"csrf_token": csrf_of(m.client, "/")})
    assert m.client.get("/").status_code == 302
