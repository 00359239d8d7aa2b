"""``make run``: the local calendar provider's settings, and the demo people's calendars
connected to it over the real OAuth flow, so the demo's meetings come from synced calendars.

Each demo person not yet connected is registered at the provider with their real manager and
team-mates (so 1:1s with the manager are recognised), then logs in to the gateway, presses
"Connect calendar" and consents at the provider, exactly as in a browser. The gateway sends
the first sync to the worker.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import requests
from sqlalchemy import Engine, text

from infra.embedded import free_port

LOCAL_CLIENT_ID = "compound"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TIMEOUT = 15


def provider_environment(
    env: dict[str, str], data_dir: Path, port: int, secret: Callable[[Path], str]
) -> dict[str, str]:
    """The variables the provider and the gateway need to talk to each other; whatever the
    caller set already wins. ``secret`` keeps generated secrets in the data directory."""
    provider_port = int(env.get("COMPOUND_CALENDAR_PROVIDER_PORT") or free_port(port + 10))
    defaults = {
        "COMPOUND_CALENDAR_PROVIDER_PORT": str(provider_port),
        "COMPOUND_CALENDAR_LOCAL_URL": f"http://127.0.0.1:{provider_port}",
        "COMPOUND_CALENDAR_LOCAL_CLIENT_ID": LOCAL_CLIENT_ID,
        "COMPOUND_CALENDAR_LOCAL_CLIENT_SECRET": secret(data_dir / "calendar-client.secret"),
        "COMPOUND_CALENDAR_PROVIDER_ADMIN_TOKEN": secret(data_dir / "calendar-admin.secret"),
        "COMPOUND_CALENDAR_PROVIDER_REDIRECT_URIS": ",".join(
            f"http://{host}:{port}/calendar/callback/local" for host in ("127.0.0.1", "localhost")
        ),
    }
    return {name: env.get(name) or value for name, value in defaults.items()}


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def demo_people_to_connect(
    engine: Engine, tenant_id: uuid.UUID | None = None
) -> dict[str, tuple[str | None, list[str]]]:
    """Demo people without a calendar connection: e-mail -> (manager, team-mates)."""
    with engine.connect() as db:
        rows = db.execute(
            text(
                "SELECT lower(p.email), m.team_id, m.is_manager, "
                "EXISTS (SELECT 1 FROM calendar_connections c WHERE c.person_id = p.id) "
                "FROM people p JOIN team_members m ON m.person_id = p.id "
                "WHERE p.status = 'active' AND p.email LIKE '%@demo.test' "
                "AND (CAST(:tenant AS uuid) IS NULL OR p.tenant_id = :tenant)"
            ),
            {"tenant": tenant_id},
        ).fetchall()
    teams: dict[object, list[str]] = defaultdict(list)
    managers: dict[object, str] = {}
    waiting: dict[str, object] = {}
    for email, team, is_manager, connected in rows:
        teams[team].append(email)
        if is_manager:
            managers[team] = email
        if not connected:
            waiting[email] = team
    return {
        email: (
            managers.get(team) if managers.get(team) != email else None,
            [e for e in teams[team] if e != email],
        )
        for email, team in waiting.items()
    }


def connect_over_oauth(gateway_url: str, provider_password: str, email: str, password: str) -> None:
    """Log in to the gateway as ``email`` and connect the local calendar (the browser flow).

    Raises:
        RuntimeError: a step answered something unexpected.
    """
    with requests.Session() as session:
        login = session.get(f"{gateway_url}/login", timeout=TIMEOUT)
        response = session.post(
            f"{gateway_url}/login",
            data={"csrf_token": _csrf(login.text), "email": email, "password": password},
            timeout=TIMEOUT,
        )
        if "/login" in response.url:
            raise RuntimeError(f"{email} could not log in")
        page = session.get(f"{gateway_url}/calendar", timeout=TIMEOUT)
        consent = session.post(
            f"{gateway_url}/calendar/connect/local",
            data={"csrf_token": _csrf(page.text)},
            timeout=TIMEOUT,
            allow_redirects=False,
        )
        authorize = consent.headers.get("Location", "")
        allowed = session.post(
            authorize,
            data={"email": email, "password": provider_password, "decision": "allow"},
            timeout=TIMEOUT,
        )
        if allowed.status_code != 200 or 'data-status="connected"' not in allowed.text:
            raise RuntimeError(f"connecting {email}'s calendar answered {allowed.status_code}")


def connect_demo_calendars(
    engine: Engine,
    env: dict[str, str],
    gateway_url: str,
    password: str,
    say: Callable[[str], None],
    tenant_id: uuid.UUID | None = None,
) -> int:
    """Connect every demo person's calendar that is not connected yet; returns how many."""
    people = demo_people_to_connect(engine, tenant_id)
    if not people:
        return 0
    provider_url = env["COMPOUND_CALENDAR_LOCAL_URL"]
    admin = {"Authorization": f"Bearer {env['COMPOUND_CALENDAR_PROVIDER_ADMIN_TOKEN']}"}
    provider_password = env.get("COMPOUND_CALENDAR_PROVIDER_PASSWORD") or password
    done = 0
    for email, (manager, colleagues) in sorted(people.items()):
        requests.put(
            f"{provider_url}/admin/accounts/{email}",
            json={"manager": manager, "colleagues": colleagues},
            headers=admin,
            timeout=TIMEOUT,
        ).raise_for_status()
        connect_over_oauth(gateway_url, provider_password, email, password)
        done += 1
    say(f"Connected {done} demo calendars to the local provider (first syncs in the worker)")
    return done


def _csrf(html: str) -> str:
    found = _CSRF.search(html)
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)
