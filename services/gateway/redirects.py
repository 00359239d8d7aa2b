"""Where a redirect that takes user input may go: a local path of this gateway, nothing else.

Every redirect whose target comes from a request (``?next=`` after login, for one) goes
through :func:`local_target`. Browsers are lenient where a server is strict: they drop tabs
and newlines inside a URL, read a backslash as a slash and ``//host`` as another host, so a
check that looks at the raw text (``startswith("/")``) is bypassed by ``/%09/evil.example``
or ``/\\evil.example``. Here the target is decoded as a browser would see it and refused
when any reading of it could leave the site.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

_CONTROL = re.compile(r"[\x00-\x1f\x7f\s]")
_MAX_LENGTH = 2000


def local_target(value: str | None, default: str) -> str:
    """``value`` if it is a local path of this site, else ``default``.

    Refused: anything empty, longer than 2,000 characters, with a control or white-space
    character or a backslash (raw or percent-encoded), with a scheme or a host, starting
    ``//`` once decoded, or with a ``.`` or ``..`` path segment.

    Parameters:
        value: the target the request asked for (``None`` when it named none).
        default: where to go instead (a path the caller built itself).

    Returns:
        A path starting with a single ``/`` (its query string kept), or ``default``.
    """
    if not value or len(value) > _MAX_LENGTH:
        return default
    decoded = value
    for _ in range(3):  # a target encoded twice or thrice decodes to the same refusal
        if _unsafe(decoded):
            return default
        once = unquote(decoded)
        if once == decoded:
            return value
        decoded = once
    return default


def _unsafe(text: str) -> bool:
    if _CONTROL.search(text) or "\\" in text:
        return True
    if not text.startswith("/") or text.startswith("//"):
        return True
    parts = urlsplit(text)
    if parts.scheme or parts.netloc:
        return True
    return any(segment in (".", "..") for segment in parts.path.split("/"))
