"""The Flask gateway: HTTP in, events appended, read models served."""

from services.gateway.app import create_app

__all__ = ["create_app"]
