"""Every page in the pseudo-locale: no text outside the catalogue.

The demo organisation (``seed_demo``, in a database of its own, projected and released) is
crawled with the Flask test client as a visitor and as each demo login, following every
same-site link and ``hx-get`` of every page, with ``Accept-Language: en-XA``. Every
catalogued text then reads ``⟦…⟧`` (``shared/i18n/README.md``); a word of a page outside
``⟦…⟧`` that is not data (a name, a note, an address the demo typed), a month or day name
(formatted by CLDR, not the catalogue) or a brand name went around the catalogue. Text in
``<code>``, ``<kbd>``, ``<samp>`` or an element marked ``translate="no"`` (a key, a command)
is verbatim by definition.
"""

from __future__ import annotations

import ast
import re
import uuid
from collections import deque
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from babel import Locale
from flask.testing import FlaskClient

from infra.seed import DEMO_LOGINS
from shared.commands import Actor, OrganizationCommands
from shared.invitations import invitation_link
from tests.demo_database import PASSWORD, demo_database
from tests.portal.conftest import csrf_of

pytestmark = pytest.mark.integration


PSEUDO_HEADERS = {"Accept-Language": "en-XA"}
MAX_PAGES = 120  # per login: every kind of page, a few of each
SKIP = re.compile(
    r"^/(logout|static/|api/|scim/|slack/|msteams/messages|health|metrics|calendar/oauth)"
    r"|\.(csv|json|png|svg|ico)$|/export"
)
BRANDS = {
    "Compound", "CSV", "JSON", "API", "SCIM", "SSO", "TOTP", "OAuth", "OpenID", "Slack",
    "Microsoft", "Teams", "Google", "Outlook", "Excel", "English", "Deutsch", "Français",
    "UTC", "ISO", "htmx", "k", "n", "e", "g", "x",
}  # fmt: skip
ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")


def _data_words() -> set[str]:
    """Every word of the demo's own text: names, teams, notes (data, never translated)."""
    tree = ast.parse(Path(__file__).resolve().parents[2].joinpath("infra/seed.py").read_text())
    words: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            words.update(re.findall(r"[^\W\d_]+", node.value))
    return words


def _calendar_words() -> set[str]:
    words: set[str] = set()
    for locale in ("en_GB", "en"):
        data = Locale.parse(locale)
        for context in ("format", "stand-alone"):
            for width in ("abbreviated", "wide", "narrow"):
                words.update(data.months[context][width].values())
                words.update(data.days[context][width].values())
    return {w.strip(".") for w in words}


ALLOWED = BRANDS | _calendar_words()


class _Text(HTMLParser):
    """A page's visible text, its attributes read aloud, and its links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0
        self._verbatim: list[str] = []  # open <code>/<kbd>/<samp> or translate="no" elements

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("script", "style", "template"):
            self._hidden += 1
        if tag in ("code", "kbd", "samp") or found.get("translate") == "no":
            self._verbatim.append(tag)  # a key, a command, a code: never translated
        for name in ATTRIBUTES:
            if found.get(name):
                self.texts.append(str(found[name]))
        if tag == "input" and found.get("type") in ("submit", "button") and found.get("value"):
            self.texts.append(str(found["value"]))
        for name in ("href", "hx-get"):
            if found.get(name):
                self.links.append(str(found[name]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1
        if self._verbatim and self._verbatim[-1] == tag:
            self._verbatim.pop()

    def handle_data(self, data: str) -> None:
        if not self._hidden and not self._verbatim and data.strip():
            self.texts.append(data)


_MARKED = re.compile(r"⟦[^⟦⟧]*⟧")


def uncatalogued(html: str, data: set[str]) -> tuple[list[str], list[str]]:
    """``(texts with words outside the catalogue, links)`` of a page."""
    parser = _Text()
    parser.feed(html)
    found = []
    for text in parser.texts:
        rest = text
        while True:  # nested marks (a catalogued text inside another's placeholder)
            shorter = _MARKED.sub(" ", rest)
            if shorter == rest:
                break
            rest = shorter
        words = [
            w
            for w in re.findall(r"[^\W\d_]+", rest.replace("/", " / "))
            if w not in ALLOWED and w not in data
        ]
        if words and not re.fullmatch(r"\s*[\w.+-]+@[\w.-]+\s*", rest):
            found.append(" ".join(text.split())[:120])
    return found, parser.links


@pytest.fixture(scope="module")
def demo(postgres_server_url: str, redis_url: str, master_key: str) -> Iterator[dict[str, Any]]:
    from services.gateway import create_app

    with demo_database(postgres_server_url, redis_url, master_key, "pseudo") as demo:
        app = create_app(
            {
                "COMPOUND_SETTINGS": demo.settings,
                "TESTING": True,
                "RATELIMIT_ENABLED": False,
                "SERVER_NAME": "compound.test",
                "RATELIMIT_KEY_PREFIX": f"pseudo-{uuid.uuid4().hex}",
                "PSEUDO_LOCALE": True,
            }
        )
        tenant_id = demo.seeded.tenant_id
        admin = Actor(tenant_id=tenant_id, person_id=_admin(demo.engine, tenant_id), role="admin")
        invited = OrganizationCommands(demo.store).invite(admin, "new@demo.test", "employee", None)
        link = invitation_link(demo.settings, tenant_id, invited.person_id)
        yield {"app": app, "invitation": "/invite/" + link.split("/invite/")[1]}
        app.extensions["compound"].close()


def _admin(engine: Any, tenant_id: uuid.UUID) -> uuid.UUID:
    from sqlalchemy import text

    with engine.connect() as conn:
        return uuid.UUID(
            str(
                conn.execute(
                    text("SELECT id FROM people WHERE tenant_id = :t AND role = 'admin'"),
                    {"t": tenant_id},
                ).scalar_one()
            )
        )


def crawl(client: FlaskClient, start: list[str], data: set[str]) -> dict[str, list[str]]:
    """Every page reachable from ``start``: path -> its uncatalogued texts."""
    seen: set[str] = set()
    shapes: dict[str, int] = {}
    queue = deque(start)
    problems: dict[str, list[str]] = {}
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path, headers=PSEUDO_HEADERS)
        if response.status_code in (301, 302, 303):
            queue.append(urlsplit(urljoin(path, response.headers["Location"])).path)
            continue
        if "text/html" not in response.headers.get("Content-Type", ""):
            continue
        found, links = uncatalogued(response.get_data(as_text=True), data)
        if found:
            problems[path] = found
        for link in links:
            parts = urlsplit(urljoin(path, link))
            if parts.netloc not in ("", "compound.test") or not parts.path.startswith("/"):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if SKIP.search(parts.path):
                continue
            shape = re.sub(r"[0-9a-f-]{36}|\d{4}-W\d{2}|\d+", "*", parts.path)
            if shapes.get(shape, 0) >= 3:  # a few of each kind of page
                continue
            shapes[shape] = shapes.get(shape, 0) + 1
            queue.append(target)
    return problems


def _report(problems: dict[str, list[str]]) -> str:
    lines = []
    for path, texts in sorted(problems.items()):
        lines.append(path)
        lines.extend(f"    {t!r}" for t in texts[:12])
    return "text outside the catalogue:\n" + "\n".join(lines)


@pytest.mark.parametrize("login", [None, *DEMO_LOGINS])
def test_every_page_is_written_through_the_catalogue(demo: dict[str, Any], login: str | None):
    app = demo["app"]
    client = app.test_client()
    if login is not None:
        response = client.post(
            "/login",
            data={
                "csrf_token": csrf_of(client),
                "email": DEMO_LOGINS[login],
                "password": PASSWORD,
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    start = ["/login", "/forgot"] if login is None else ["/", "/account"]
    problems = crawl(client, start, _data_words())
    assert not problems, _report(problems)


def test_the_pages_behind_a_link_are_written_through_the_catalogue(demo: dict[str, Any]):
    app = demo["app"]
    ada = app.test_client()
    ada.post(
        "/login",
        data={"csrf_token": csrf_of(ada), "email": DEMO_LOGINS["employee"], "password": PASSWORD},
    )
    asked = ada.post(
        "/feedback",
        data={
            "csrf_token": csrf_of(ada, "/account"),
            "question": "Was my summary useful?",
            "expires_in_days": "7",
        },
    )
    assert asked.status_code == 302
    html = ada.get(asked.headers["Location"]).get_data(as_text=True)
    link = re.search(r'value="[^"]*(/f/[^"]+)"', html)
    assert link, html[:3000]
    start = [
        demo["invitation"],
        link.group(1),
        "/f/not-a-token",
        "/invite/not-a-token",
        "/password/reset/not-a-token",
    ]
    problems = crawl(app.test_client(), start, _data_words() | {"Was", "my", "summary", "useful"})
    assert not problems, _report(problems)


def test_the_crawl_finds_text_that_bypasses_the_catalogue():
    page = (
        "<main><h1>⟦Ŵééķ 49⟧</h1><p>Ada Lovelace</p><p>Not translated</p>30 Nov"
        '<code>ABCD EFGH</code><span translate="no">Verbatim</span></main>'
    )
    found, _ = uncatalogued(page, {"Ada", "Lovelace"})
    assert found == ["Not translated"]
