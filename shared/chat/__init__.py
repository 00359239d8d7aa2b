"""The Slack app (docs/chat.md): installations and account links, signed requests, the
``/compound`` modal and the work the Slack worker does after Slack's request is acknowledged.

The gateway (services/gateway/slack/) acknowledges within Slack's three seconds and sends the
work to the ``slack`` queue by actor name (:mod:`shared.chat.jobs`); workers/slack.py runs it
(:class:`shared.chat.work.SlackWork`). Only direct messages ever leave Compound.
"""
