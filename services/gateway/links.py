"""Links people take elsewhere (mails, copyable links, API answers) start with
``COMPOUND_PUBLIC_URL``, the address people reach the gateway at, never the address a
request happened to arrive at (a proxy's, a health check's, a forged ``Host``)."""

from __future__ import annotations

from typing import Any

from flask import url_for

from services.gateway.resources import resources


def public_url_for(endpoint: str, **values: Any) -> str:
    """``url_for(endpoint, **values)`` under ``COMPOUND_PUBLIC_URL``."""
    return resources().settings.public_url + url_for(endpoint, **values)
