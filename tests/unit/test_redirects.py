"""``local_target``: only a local path of this site, against the known bypass corpus."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.gateway.redirects import local_target

HOME = "/"

# What browsers read as another host, a script or something else than a local path.
BYPASSES = [
    "//evil.example",
    "/%09/evil.example",  # the case: the tab is dropped, "//" remains
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/%5Cevil.example",
    "/%5cevil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%252F%252Fevil.example",  # encoded twice
    "%2F%2Fevil.example",
    "https://evil.example/",
    "http:evil.example",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "///evil.example",
    "////evil.example",
    "/ /evil.example",
    "/\x00/evil.example",
    "/\x0b/evil.example",
    "/\u3000/evil.example",
    "/./evil.example",
    "/../evil.example",
    "/%2e%2e/evil.example",
    "evil.example",
    "@evil.example",
    "",
    "/" + "a" * 2001,
]

LOCAL = [
    "/",
    "/capital",
    "/dashboards/teams/0b8d7ef4-2b1c-4c1d-9a5e-7c0f1d2e3f40?week=2026-W49",
    "/today?after=12#log",
    "/account/sessions",
    "/search?q=%C3%A9t%C3%A9",
]


@pytest.mark.parametrize("target", BYPASSES)
def test_bypasses_fall_back_to_the_default(target: str) -> None:
    assert local_target(target, HOME) == HOME


@pytest.mark.parametrize("target", LOCAL)
def test_local_paths_are_kept(target: str) -> None:
    assert local_target(target, HOME) == target


def test_no_target_gives_the_default() -> None:
    assert local_target(None, "/capital") == "/capital"


@given(st.text(max_size=40))
def test_whatever_is_kept_is_a_single_slash_path_without_a_host(target: str) -> None:
    kept = local_target(target, HOME)
    if kept != HOME:
        assert kept.startswith("/") and not kept.startswith("//")
        assert "\\" not in kept and not any(ord(c) < 0x20 or c.isspace() for c in kept)
