"""Entry points: the Flask gateway, the calendar provider, the ``compound`` command."""
