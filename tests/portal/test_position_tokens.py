"""The portal's URLs and pages carry positions only as tokens of the member's organisation
(issue #17, attack 8: global log positions show other organisations' activity)."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from shared.read_tokens import PositionTokens
from tests.conftest import TEST_SECRET, DemoOrg
from tests.portal.conftest import Member

pytestmark = pytest.mark.integration


def test_a_write_redirects_with_a_token_and_the_capital_page_shows_one(
    member: Callable[..., Member], org: DemoOrg
):
    m = member()
    logged = m.post("/actions", {"tactic": "learning_bit", "minutes": "10", "audience": "team"})
    assert logged.status_code == 302
    [after] = parse_qs(urlsplit(logged.headers["Location"]).query)["after"]
    assert after.startswith("p1.") and PositionTokens(TEST_SECRET).open(org.tenant_id, after) > 0
    page = m.page(f"/?after={after}")
    assert "Logged" in page or "logged" in page
    [shown] = re.findall(r'data-as-of="([^"]*)"', m.page("/capital"))
    assert shown.startswith("p1.") and not shown[3:].isdigit()
    assert m.page("/?after=12345")  # a raw number waits for nothing and is no error
