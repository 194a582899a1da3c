"""A review's rules: states, the lifecycle (transitions and who may make them), roles, the audit chain, the
errors a refused change raises, and the notices each change sends (who is told what, rendered in the change's
transaction and written to the outbox with it).

May import: bot.intake, bot.common, bot.config, storage. Never Slack's Bolt, bot.figures, bot.slack, bot.run.
"""
