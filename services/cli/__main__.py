"""``python -m services.cli``: the ``compound`` command."""

from services.cli import entry_point

entry_point()
