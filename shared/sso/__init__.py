"""Single sign-on with OpenID Connect, per organisation (issue 21, docs/sso.md).

* :mod:`shared.sso.config`: what an organisation's connection is, checked (pure);
* :mod:`shared.sso.store`: connections, domains and linked identities (events and their rows);
* :mod:`shared.sso.oidc`: the relying party (Authlib): discovery, PKCE, the ID-token checks;
* :mod:`shared.sso.accounts`: who a verified sign-in is (linked, matched by e-mail, or new).
"""
