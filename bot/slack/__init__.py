"""Slack's side: building the Bolt app (the composition root), its middleware and adapters, the one Web API
client, the Block Kit views (modals, App Home, lists), the slash-command grammar, the manifest, and the services
every listener reaches through Bolt's context.

May import: bot.figures, bot.review, bot.intake, bot.common, bot.config, storage, slack_bolt. Never handlers/
(they are handed to build_app) nor bot.run.
"""
