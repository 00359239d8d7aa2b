"""Calendar ingestion: providers, OAuth connections with encrypted tokens, minimisation, sync.

Modules: ``settings`` (what is configured), ``providers`` (endpoints and scopes),
``connections`` (tokens encrypted at rest, connect and disconnect), ``minimise`` (an event
-> timing and counts), ``provider_api`` (the provider's HTTP API, page by page), ``sync``
(incremental, paginated, idempotent), ``jobs`` (the queue).
docs/calendar.md describes the whole flow and the privacy rules.
"""
