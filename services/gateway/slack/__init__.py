"""The Slack app's surfaces (docs/chat.md): what Slack sends (:mod:`.incoming`, signed, no
session) and what people do in the portal (:mod:`.accounts`: install, link, unlink)."""

from __future__ import annotations

from flask import Flask

from services.gateway.slack import accounts, incoming


def init_app(app: Flask) -> None:
    incoming.init_app(app)
    accounts.init_app(app)
