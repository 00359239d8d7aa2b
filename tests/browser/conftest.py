"""Browser tests: the gateway as a live server on a free loopback port, the system Chromium
driven by Playwright, and a catch-up thread standing in for the projection worker.

Chromium is the machine's (``apt-get install chromium``); ``playwright install`` is never
run. Without it the tests skip, except on CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from shared.eventlog import EventStore
from shared.projections import runtime
from shared.settings import Settings
from tests.browser.serving import serving

CHROMIUM = Path(os.environ.get("COMPOUND_CHROMIUM", "/usr/lib/chromium/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM}: apt-get install chromium"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="session")
def live_app(settings: Settings) -> Iterator[Flask]:
    """A gateway of its own: no SERVER_NAME (the browser calls it by its address), its port
    chosen now so that the links it mails and shows (COMPOUND_PUBLIC_URL) point at it."""
    from infra.embedded import free_port
    from services.gateway import create_app

    port = free_port(0)
    app = create_app(
        {
            "COMPOUND_SETTINGS": dataclasses.replace(
                settings, public_url=f"http://127.0.0.1:{port}"
            ),
            "LIVE_PORT": port,
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_KEY_PREFIX": f"browser-{uuid.uuid4().hex}",
        }
    )
    yield app
    app.extensions["compound"].close()


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[str]:
    """The gateway served by werkzeug in a thread; yields its base URL."""
    with serving(live_app, live_app.config["LIVE_PORT"]) as base:
        yield base


@pytest.fixture
def projector(store: EventStore) -> Iterator[None]:
    """Projects the log continuously, as the Dramatiq worker does after each wake-up, for
    the test using it only (its own store object: no other test sees its reads)."""
    rt = runtime(EventStore(store.engine, keyring=store.keyring))
    rt.ensure()
    stop = threading.Event()
    names = list(rt.projections)

    def run() -> None:
        while not stop.is_set():
            for name in names:
                rt.catch_up(name)
            stop.wait(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Any]:
    """Chromium for one test module: Playwright's sync API keeps an event loop running while
    it is open, so it must be closed before other tests (or their own Playwright) run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
