"""Secrets at rest and in logs: passwords stored as argon2 hashes and tokens as SHA-256
digests (checked in a pg_dump of the database), and no password, token, signed link, cookie
or key ever written to the gateway's logs, even at DEBUG level."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask.json.tag import TaggedJSONSerializer
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Engine

from shared.security import token_digest
from tests.conftest import TEST_SECRET, DemoOrg
from tests.integration.test_crypto_shredding import dump_database
from tests.reliability.report import Figures
from tests.reliability.servers import Gateway, app_env, gunicorn
from tests.security.pages import csrf_token

pytestmark = pytest.mark.integration


def form_post(gateway: Gateway, path: str, fields: dict[str, str], cookie: str) -> tuple[int, str]:
    status, headers, _ = gateway.call(
        "POST",
        path,
        raw=urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    return status, headers.get("Set-Cookie", "")


def session_cookie(set_cookie: str) -> str:
    match = re.search(r"session=([^;]+)", set_cookie)
    assert match, set_cookie
    return f"session={match.group(1)}"


def cookie_contents(value: str) -> dict[str, str]:
    """What Flask's signed session cookie carries (signed, not encrypted: readable)."""
    serializer = URLSafeTimedSerializer(
        TEST_SECRET,
        salt="cookie-session",
        serializer=TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )
    contents: dict[str, str] = serializer.loads(value)
    return contents


def test_no_secret_reaches_the_logs_and_the_database_holds_only_hashes(
    tmp_path: Path,
    database_url: str,
    redis_url: str,
    master_key: str,
    org: DemoOrg,
    engine: Engine,
    embedded_bin_dir: Path,
    figures: Figures,
) -> None:
    secrets: dict[str, str] = {"master key": master_key, "secret key": TEST_SECRET}
    new_password = "n3w-Pa55word-" + uuid.uuid4().hex[:10]
    wrong_password = "wr0ng-Pa55word-" + uuid.uuid4().hex[:10]
    secrets |= {"password": org.password, "new password": new_password, "wrong": wrong_password}
    env = app_env(database_url, redis_url, master_key, COMPOUND_LOG_LEVEL="DEBUG")
    with gunicorn(env, tmp_path / "gunicorn.log", workers=1) as gateway:
        # API logins: right and wrong password, a malformed body carrying the password
        creds = {"email": org.emails["platform-1"], "password": org.password}
        status, _, body = gateway.call("POST", "/api/v1/auth/token", creds)
        assert status == 200, body
        token = json.loads(body)["access_token"]
        secrets["session token"] = token
        bad = {**creds, "password": wrong_password}
        assert gateway.call("POST", "/api/v1/auth/token", bad)[0] == 401
        odd = {"email": 42, "password": wrong_password, "extra": wrong_password}
        assert gateway.call("POST", "/api/v1/auth/token", odd)[0] == 422
        auth = {"Authorization": f"Bearer {token}"}
        # a forged token
        forged = "forged-" + uuid.uuid4().hex
        secrets["forged token"] = forged
        assert (
            gateway.call("GET", "/api/v1/me", headers={"Authorization": f"Bearer {forged}"})[0]
            == 401
        )
        # signed links: a feedback request and an invitation
        status, _, body = gateway.call(
            "POST",
            "/api/v1/feedback-requests",
            {"question": "Was my summary useful?"},
            auth,
        )
        assert status == 201, body
        feedback_link = json.loads(body)["link"]
        secrets["feedback token"] = feedback_link.rstrip("/").rsplit("/", 1)[1]
        feedback_path = "/f/" + secrets["feedback token"]
        assert gateway.call("GET", feedback_path)[0] == 200  # the colleague opens the link
        admin_token = json.loads(
            gateway.call(
                "POST",
                "/api/v1/auth/token",
                {"email": org.emails["admin"], "password": org.password},
            )[2]
        )["access_token"]
        secrets["admin token"] = admin_token
        invited = f"invited-{uuid.uuid4().hex[:8]}@demo.test"
        status, _, body = gateway.call(
            "POST",
            "/api/v1/invitations",
            {"email": invited, "team_id": str(org.teams["platform"])},
            {"Authorization": f"Bearer {admin_token}"},
        )
        assert status == 201, body
        link = json.loads(body)["link"]
        invite_path = "/invite/" + link.rstrip("/").rsplit("/", 1)[1]
        secrets["invitation token"] = invite_path.rsplit("/", 1)[1]
        # the invitation page: choose a password (a form post with its CSRF token)
        _, headers, page = gateway.call("GET", invite_path)
        cookie = session_cookie(headers.get("Set-Cookie", ""))
        status, _ = form_post(
            gateway,
            invite_path,
            {
                "display_name": "Invited",
                "password": new_password,
                "csrf_token": csrf_token(page.decode()),
            },
            cookie,
        )
        assert status == 302
        # the login page: a wrong password, then the right one
        _, headers, page = gateway.call("GET", "/login")
        cookie = session_cookie(headers.get("Set-Cookie", ""))
        form = {"email": invited, "csrf_token": csrf_token(page.decode())}
        assert form_post(gateway, "/login", {**form, "password": wrong_password}, cookie)[0] == 401
        right = {**form, "password": new_password}
        status, set_cookie = form_post(gateway, "/login", right, cookie)
        assert status == 302
        secrets["session cookie"] = session_cookie(set_cookie).split("=", 1)[1]
        secrets["session secret"] = cookie_contents(secrets["session cookie"])["s"]
        # a personal access token, minted in the portal session, then used
        cookie = session_cookie(set_cookie)
        _, headers, page = gateway.call("GET", "/account", headers={"Cookie": cookie})
        cookie = session_cookie(headers.get("Set-Cookie", ""))  # now with a CSRF token
        csrf = re.search(r'"X-CSRFToken": "([^"]+)"', page.decode())
        assert csrf
        status, _, body = gateway.call(
            "POST", "/api/v1/me/tokens", {"name": "ci"}, {"Cookie": cookie, "X-CSRFToken": csrf[1]}
        )
        assert status == 201, body
        personal = json.loads(body)["access_token"]
        secrets["personal token"] = personal
        assert (
            gateway.call("GET", "/api/v1/me", headers={"Authorization": f"Bearer {personal}"})[0]
            == 200
        )
        log = gateway.log_path.read_text()

    # The requests were logged, so the search below means something.
    assert log.count('"event": "request"') >= 12
    leaked = sorted(name for name, value in secrets.items() if value in log)
    assert not leaked, f"written to the logs: {leaked}"

    dump = dump_database(engine, embedded_bin_dir)
    in_dump = sorted(
        name
        for name, value in secrets.items()
        if name not in ("secret key", "master key") and value in dump
    )
    assert not in_dump, f"stored in plaintext: {in_dump}"
    assert token_digest(personal) in dump and token_digest(token) in dump  # stored as digests
    assert token_digest(secrets["session secret"]) in dump  # web_sessions: the digest only
    argon2 = len(re.findall(r"\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$", dump))
    assert argon2 >= 8  # every person of the organisations has an argon2id hash, not a password
    figures.record(
        "secrets",
        "Security",
        "no password, token, signed link, session cookie or key in the gateway's logs (DEBUG "
        "level); passwords as argon2id and tokens as SHA-256 in a pg_dump",
        "tests/security/test_secrets.py",
        secrets_searched=len(secrets),
        found_in_logs=0,
        log_lines_searched=log.count("\n"),
        found_in_database_dump=0,
        argon2id_hashes_in_dump=argon2,
    )
