"""The WSGI entry point for gunicorn: ``services.gateway.wsgi:app``."""

from services.gateway import create_app

app = create_app()
