"""Code every Compound process shares: settings, the database, the event log and the domain.

Nothing in ``shared`` imports from ``services``, ``workers`` or ``infra``.
"""
