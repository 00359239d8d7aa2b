"""The request and ``g`` themselves, behind Flask's context proxies.

Every attribute read through a werkzeug ``LocalProxy`` first fails a lookup on the proxy's
class (Python formats an ``AttributeError`` for it) before the proxy forwards it: a few
microseconds each. Hooks that run on every request and read several attributes take the
object once instead.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from flask import Request, g, request


class RequestGlobals(Protocol):
    """What the gateway uses of ``flask.g`` (Flask's class for it is private): attributes set
    and read freely, and ``get`` with a default."""

    def __getattr__(self, name: str) -> Any: ...

    def __setattr__(self, name: str, value: Any) -> None: ...

    def get(self, name: str, default: Any | None = None) -> Any: ...


def current_request() -> Request:
    """The request being handled (not its proxy)."""
    return cast(Request, cast(Any, request)._get_current_object())


def request_globals() -> RequestGlobals:
    """``flask.g`` of the current context (not its proxy)."""
    return cast(RequestGlobals, cast(Any, g)._get_current_object())
