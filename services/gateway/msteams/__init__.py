"""The Teams bot's surfaces (docs/chat.md, "Microsoft Teams"): the messaging endpoint the
Bot Framework posts activities to (:mod:`.incoming`, a signed token, no session) and the
portal's link and unlink (:mod:`.accounts`)."""

from __future__ import annotations

from flask import Flask

from services.gateway.msteams import accounts, incoming


def init_app(app: Flask) -> None:
    incoming.init_app(app)
    accounts.init_app(app)
