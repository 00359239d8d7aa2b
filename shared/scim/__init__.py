"""SCIM 2.0 provisioning (RFC 7643 and 7644; docs/scim.md): an identity provider creates,
changes and removes an organisation's people and teams, and every change is an event.

* :mod:`shared.scim.tokens`: the organisation's bearer tokens, stored as SHA-256.
* :mod:`shared.scim.filters`: a SCIM ``filter`` as an SQL condition.
* :mod:`shared.scim.reads`: people and teams as the identity provider sees them.
* :mod:`shared.scim.mapping`: SCIM resources <-> what Compound keeps of them.
* :mod:`shared.scim.provisioning`: the changes, as the organisation's events.
* :mod:`shared.scim.discovery`: ServiceProviderConfig, ResourceTypes and Schemas.
"""
