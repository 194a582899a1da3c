"""The Jira side: the client (the `jira` package, imported only when Jira is configured), delivering the
outbox's jira.* rows (owner mapping, the link back, never two issues for one safeguard), the webhook's
authentication, the poll, applying a Jira state back to a condition through bot.review, and `secreview check`'s
Jira lines.

May import: bot.review, bot.intake, bot.common, bot.config, storage, jira (lazily). Never Slack's Bolt,
bot.slack, bot.figures, bot.run: bot.run hands it what it needs from Slack (an email lookup) and calls it.
"""
