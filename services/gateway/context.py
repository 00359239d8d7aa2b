"""The request and ``g`` themselves, behind Flask's context proxies.

Every attribute read through a werkzeug ``LocalProxy`` first fails a lookup on the proxy's
class (Python formats an ``AttributeError`` for it) before the proxy forwards it: a few
microseconds each. Hooks that run on every request and read several attributes take the
object once instead.
"""

from __future__ import annotations

from typing import Any, cast

from flask import Request, g, request
from flask.ctx import _AppCtxGlobals


def current_request() -> Request:
    """The request being handled (not its proxy)."""
    return cast(Request, cast(Any, request)._get_current_object())


def request_globals() -> _AppCtxGlobals:
    """``flask.g`` of the current context (not its proxy)."""
    return cast(_AppCtxGlobals, cast(Any, g)._get_current_object())
