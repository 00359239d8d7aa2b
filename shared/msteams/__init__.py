"""The Microsoft Teams bot (docs/chat.md, "Microsoft Teams"): settings, the check of the
Bot Framework's tokens, the Adaptive Cards, links and conversation references, and the work
the ``msteams`` worker does. Named ``msteams`` because a "team" is Compound's own word."""
