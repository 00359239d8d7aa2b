"""Microsoft's own Graph SDK (``msgraph-sdk``, Kiota) against the local provider: the
request adapter's base URL set to the provider, a bearer token from the PKCE dance, and
``me.calendar_view.delta`` with its typed query parameters (``startDateTime``,
``endDateTime``, ``$select``), then ``with_url`` on the next and delta links, as Microsoft's
delta-query documentation pages through a calendar view."""

from __future__ import annotations

import asyncio
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration

from tests.calendar.clients import account, dance
from tests.calendar.conftest import CalendarWorld

with warnings.catch_warnings():  # Kiota's own deprecations (GetQueryParameters), not ours
    warnings.simplefilter("ignore", DeprecationWarning)
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.generated.users.item.calendar_view.delta.delta_request_builder import (
        DeltaRequestBuilder,
    )

pytestmark = [
    pytest.mark.integration,
    pytest.mark.usefixtures("loopback_http"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # Kiota and msgraph own
]


class StaticToken(AccessTokenProvider):
    """The access token of the dance, for the provider's host only."""

    def __init__(self, token: str, host: str):
        self.token = token
        self.validator = AllowedHostsValidator([host])

    async def get_authorization_token(
        self, uri: str, additional_authentication_context: Any = None
    ) -> str:
        return self.token if self.validator.is_url_host_valid(uri) else ""

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self.validator


def graph_client(world: CalendarWorld, token: str) -> GraphServiceClient:
    host = world.provider_url.split("//", 1)[1].split(":")[0]  # a hostname, no port
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken(token, host)))
    adapter.base_url = f"{world.provider_url}/v1.0"
    return GraphServiceClient(request_adapter=adapter)


async def all_rounds(client: GraphServiceClient, select: list[str]) -> tuple[list[Any], str]:
    now = datetime.now(UTC)
    query = DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(
        start_date_time=(now - timedelta(weeks=4)).isoformat(),
        end_date_time=(now + timedelta(weeks=1)).isoformat(),
        select=select,
    )
    config = RequestConfiguration(query_parameters=query)
    config.headers.add("Prefer", "odata.maxpagesize=40")
    page = await client.me.calendar_view.delta.get(request_configuration=config)
    events: list[Any] = []
    while True:
        assert page is not None
        events += page.value or []
        if not page.odata_next_link:
            assert page.odata_delta_link
            return events, page.odata_delta_link
        page = await client.me.calendar_view.delta.with_url(page.odata_next_link).get()


async def changes(client: GraphServiceClient, link: str) -> tuple[list[Any], str]:
    page = await client.me.calendar_view.delta.with_url(link).get()
    assert page is not None and page.odata_delta_link
    return page.value or [], page.odata_delta_link


def test_the_graph_sdk_pages_selects_and_follows_the_delta_link(world: CalendarWorld):
    email = account()
    _, token = dance(world, email, ["Calendars.ReadBasic", "offline_access"])
    client = graph_client(world, token["access_token"])

    events, delta_link = asyncio.run(all_rounds(client, ["start", "end", "showAs", "isAllDay"]))

    assert len(events) > 40 and len({e.id for e in events}) == len(events)
    assert all(e.subject is None and e.body_preview is None for e in events)  # not selected
    assert {str(e.show_as.value) for e in events if e.show_as} >= {"busy", "free"}
    assert all(e.start.time_zone == "UTC" for e in events)
    gone = next(e.id for e in events if e.show_as and e.show_as.value == "busy")
    admin = f"{world.provider_url}/admin/accounts/{email}/events/{gone}"
    assert requests.delete(admin, headers=world.admin, timeout=10).ok
    removed, _ = asyncio.run(changes(client, delta_link))
    assert [e.id for e in removed] == [gone]
    assert removed[0].additional_data.get("@removed") == {"reason": "deleted"}
